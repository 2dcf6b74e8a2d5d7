"""Helpers for the sweep tests: tiny sweep files and a runner started as a user would start it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import child_env

ROOT = Path(__file__).resolve().parents[1]

# The tiny run of conftest.TINY as sweep parameters (no evaluation: it is another test's business).
TINY_PARAMS = {
    "epochs": 1, "image_size": 32, "epoch_size": 64, "batch_size": 16, "ngf": 8, "ndf": 8, "n_samples": 16,
    "grid_nrow": 4, "interp_pairs": 2, "interp_steps": 4, "log_every": 2, "eval_every": 0,
}  # fmt: skip


def sweep_file(path: Path, zn=(8, 16), method="grid", command=None, **extra) -> Path:
    params = {k: {"value": v} for k, v in TINY_PARAMS.items()}
    params["zn"] = {"values": list(zn)}
    for k, v in extra.pop("params", {}).items():
        params[k] = v if isinstance(v, dict) else {"value": v}
    config = {
        "name": path.stem,
        "program": "train.py",
        "method": method,
        "metric": {"name": "epoch/loss_g", "goal": "minimize"},
        "parameters": params,
        "command": command or ["${env}", "${interpreter}", "${program}", "${args}"],
        **extra,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def runner(args: list[str], **kw) -> subprocess.Popen:
    """`python -m genlat sweep ...` from the repository root (where `program: train.py` resolves)."""
    return subprocess.Popen(
        [sys.executable, "-m", "genlat", "sweep", *args], cwd=ROOT, env=child_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw,
    )  # fmt: skip


def run_sweep(args: list[str], timeout=240) -> subprocess.CompletedProcess:
    proc = runner(args)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
