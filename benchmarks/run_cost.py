"""The whole-run fixed cost: one real 1-epoch run (`python train.py`, a fresh process, W&B offline)
timed from outside, minus what its own metrics line says training and evaluation took. What is left
is what every run pays whatever its length: interpreter and imports, Accelerator, W&B start and
finish, the grid and panels, the checkpoint, the final tables, exit. Imports are timed apart in
another fresh process (`import genlat.run`, what a run imports before its first step)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN_PY = ROOT / "train.py"


def _child(cmd: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall s, CPU s of the process and its children, the result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc


def run_cost(cfg, root: Path, images: int) -> dict:
    """Seconds of a 1-epoch run of `cfg` over `images` images and of its parts; `root` holds the run."""
    skip = ("out", "name", "epochs", "epoch_size", "debug")
    flags = [f"--{k}={v}" for k, v in cfg.to_dict().items() if k not in skip]
    cmd = [
        sys.executable,
        str(TRAIN_PY),
        *flags,
        "--epochs=1",
        f"--epoch_size={images}",
        f"--out={root / 'cost-runs'}",
        "--name=cost",
    ]
    wall, cpu, proc = _child(cmd, root)
    if proc.returncode != 0:
        raise RuntimeError(f"the 1-epoch run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    row = json.loads((root / "cost-runs" / "cost" / "metrics.jsonl").read_text().splitlines()[-1])
    train, evaluation = row["epoch/train_seconds"], row.get("eval/seconds", 0.0)
    imports_wall, imports_cpu, _ = _child([sys.executable, "-c", "import genlat.run"], root)
    return {
        "run_wall_s": wall,
        "run_cpu_s": cpu,
        "train_s": train,
        "eval_s": evaluation,
        "fixed_wall_s": wall - train - evaluation,
        "epoch_writes_s": row.get("epoch/write_seconds", 0.0),
        "imports_wall_s": imports_wall,
        "imports_cpu_s": imports_cpu,
        "precision": json.loads((root / "cost-runs" / "cost" / "config.json").read_text())["mixed_precision_resolved"],
    }
