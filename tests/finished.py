"""A finished run folder and a finished sweep folder, made once and copied per test: what the damage
tests and the fuzzer start from. The run is tests.helpers.TINY for two epochs with evaluation (so it
has eval/* lines, checkpoints 1-2 and best.pt, grids and panels); the sweep holds two such runs as
its finished trials, written through genlat's own sweep state (no trial process is started)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import TINY, sweep_file

RUN_NAME = "r"
RUN_ARGS = [*TINY, "--epochs", "2", "--name", RUN_NAME]
QUIET_ENV = {"WANDB_MODE": "disabled", "WANDB_SILENT": "true", "GENLAT_OFFLINE": "1"}


def train(argv: list[str]) -> int:
    from genlat.cli import train_main

    return train_main(argv)


def make_run(out: Path, seed: int = 0) -> Path:
    """OUT/r (or OUT/r-sSEED): a finished 2-epoch run."""
    name = RUN_NAME if seed == 0 else f"{RUN_NAME}-s{seed}"
    args = [*RUN_ARGS, "--out", str(out), "--name", name, "--seed", str(seed)]
    with pytest.MonkeyPatch.context() as mp:
        for k, v in QUIET_ENV.items():
            mp.setenv(k, v)
        assert train(args) == 0
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    return out / name


def make_sweep(root: Path, runs: list[Path]) -> Path:
    """ROOT/sweep: a genlat sweep folder whose trials (one per run, by seed) are finished, each its run."""
    from genlat.sweep.spec import load_spec
    from genlat.sweep.state import SweepState, new_trial

    spec_file = sweep_file(root / "fuzz.yaml", zn=(8,), params={"seed": {"values": list(range(len(runs)))}})
    cwd = os.getcwd()
    os.chdir(Path(__file__).resolve().parents[1])  # program: train.py resolves from the repository root
    try:
        spec = load_spec(spec_file)
    finally:
        os.chdir(cwd)
    state = SweepState(root / "sweep")
    state.create_or_check(spec)
    with state.locked() as data:
        for i, run in enumerate(runs):
            trial = new_trial(i, {"zn": 8, "seed": i, "epochs": 2}, spec.varying, None)
            shutil.copytree(run, state.runs / trial["name"], symlinks=True)
            trial.update(state="finished", attempts=1, epoch=2, epochs=2, exit_code=0, seconds=1.0)
            data["trials"].append(trial)
    return state.root


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


_MADE: dict[str, Path] = {}  # one of each per test session


def finished_run(tmp_path_factory) -> Path:
    """The session's finished run (made on first use); copy it before changing anything."""
    if "run" not in _MADE:
        _MADE["run"] = make_run(tmp_path_factory.mktemp("finished-run"))
    return _MADE["run"]


def finished_sweep(tmp_path_factory) -> Path:
    """The session's finished sweep of two trials (seeds 0 and 1); copy it before changing anything."""
    if "sweep" not in _MADE:
        root = tmp_path_factory.mktemp("finished-sweep")
        _MADE["sweep"] = make_sweep(root, [finished_run(tmp_path_factory), make_run(root / "made", seed=1)])
    return _MADE["sweep"]
