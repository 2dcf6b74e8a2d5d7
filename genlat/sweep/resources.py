"""What a trial is given: its command line (the sweep's `command:` as `wandb agent` renders it, plus
the run folder), its environment (W&B ids, the sweep's metric, PATH), and its share of the machine:
one GPU per worker when there are GPUs and several workers, else the CPU's cores split between them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from genlat.keys import SWEEP_METRIC_ENV, Best
from genlat.sweep.command import render, runner_path
from genlat.sweep.spec import SweepSpec
from genlat.sweep.trial import Trial


def visible_gpus() -> list[str]:
    """The GPUs trials may use: CUDA_VISIBLE_DEVICES when set, else what nvidia-smi lists (no torch import)."""
    cvd = os.environ.get("CUDA_VISIBLE_DEVICES")
    if cvd is not None:
        return [d.strip() for d in cvd.split(",") if d.strip() and d.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, _ in enumerate(line for line in out.splitlines() if line.startswith("GPU "))]


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass
class Resources:
    workers: int
    gpus: list[str] = field(default_factory=visible_gpus)
    threads: int = 0  # CPU threads per trial; 0: this machine's cores split between the workers

    def __post_init__(self):
        self.threads = self.threads or max(1, cpu_count() // self.workers)

    def describe(self) -> str:
        return f"GPUs {','.join(self.gpus)}" if self.gpus else f"CPU, {self.threads} thread(s) per trial"

    def env(self, trial: Trial, slot: int, sweep_id: str, run_dir: Path, best: Best) -> dict[str, str]:
        env = dict(os.environ)
        # Not WANDB_SWEEP_ID: an offline run that names a sweep fails to sync to a server that does not know
        # that sweep ("sweep ... not found", wandb issue #8115), and `wandb sync` cannot create one. The
        # sweep's own group (NAME-SWEEP_ID) and the tag sweep-SWEEP_ID (GENLAT_SWEEP_ID) tie its trials together.
        for key in ("WANDB_SWEEP_ID", "WANDB_SWEEP_PARAM_PATH"):
            env.pop(key, None)
        env.update(
            WANDB_RUN_ID=trial.id,
            WANDB_DIR=str(run_dir.resolve()),
            GENLAT_SWEEP_ID=sweep_id,  # with GENLAT_TRIAL, also how a runner finds a trial's orphaned processes
            GENLAT_TRIAL=trial.name,
            PATH=runner_path(env.get("PATH")),
            PYTHONUNBUFFERED="1",
        )
        env[SWEEP_METRIC_ENV] = json.dumps({"name": best.name, "goal": best.goal})  # what ranks it
        env.setdefault("WANDB_MODE", "offline")
        if "OMP_NUM_THREADS" not in os.environ:  # K trials on C cores: C/K threads each, or they thrash
            env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(self.threads)
        if self.gpus and self.workers > 1:  # one GPU per worker, round robin; one worker keeps them all
            env["CUDA_VISIBLE_DEVICES"] = self.gpus[slot % len(self.gpus)]
        return env


def command(spec: SweepSpec, trial: Trial, runs: Path, group: str) -> list[str]:
    """The trial's argv: the agent's rendering of `command:`, then where its run folder is and its group."""
    argv = render(spec.command, spec.program, trial.params)
    argv += ["--out", str(runs.resolve()), "--name", trial.name, "--wandb_group", group]
    for key in ("project", "entity"):  # online, the sweep's project and entity win over train.py's flags
        if spec.config.get(key):
            argv += [f"--wandb_{key}", str(spec.config[key])]
    return argv
