"""Fault injection (genlat.faults): a run killed, or out of disk, at a named point loses nothing that
was checkpointed, leaves the previous checkpoint loadable, and the same command finishes it with
every epoch once in metrics.jsonl."""

import json
import signal
import subprocess
import sys

import pytest
import torch

from genlat.checkpoint import list_checkpoints, load_latest
from genlat.cli import train_main
from genlat.errors import EXIT_OUTPUT
from tests.helpers import ROOT, child_env, epochs, only_run

NO_EVAL = ["--eval_every", "0"]  # evaluation is other tests' business; it would only slow these down


@pytest.fixture(autouse=True)
def _no_wandb(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")  # W&B's resume is test_resume's business; this saves its start-up


def _temp_files(run):
    return [p for p in run.rglob(".*.tmp") if "wandb" not in p.parts]


def _all_checkpoints_load(run):
    for path in list_checkpoints(run / "checkpoints"):
        torch.load(path, map_location="cpu", weights_only=True)


def _killed_at(tmp_path, tiny_args, fault):
    """`python train.py` with GENLAT_FAULT set; it must die by SIGKILL where the fault says."""
    env = child_env(GENLAT_FAULT=fault)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *tiny_args, *NO_EVAL, "--epochs", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    return only_run(tmp_path / "runs")


KILL_POINTS = [
    pytest.param("checkpoint-write", id="checkpoint-write"),  # half of epoch 2's checkpoint in its temp file
    pytest.param("metrics-append", id="metrics-append", marks=pytest.mark.slow),  # half of epoch 2's line written
    pytest.param("checkpoint-rename", id="checkpoint-rename", marks=pytest.mark.slow),
    pytest.param("mid-epoch", id="mid-epoch", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_at_a_named_point_keeps_the_previous_checkpoint_and_resumes(tmp_path, tiny_args, point, capsys):
    run = _killed_at(tmp_path, tiny_args, f"kill:{point}@2")
    # what the kill left: epoch 1's checkpoint, loadable; nothing of epoch 2 that a resume would trust
    assert [p.name for p in list_checkpoints(run / "checkpoints")] == ["epoch_001.pt"]
    state, skipped = load_latest(run / "checkpoints")
    assert state["epoch"] == 1 and skipped == []
    if point.startswith("checkpoint"):
        assert _temp_files(run)  # the cut-short write, as a kill leaves it

    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "2"]) == 0  # the same command
    assert epochs(run) == [1, 2]  # epoch 2 replayed once, its orphan line (if any) replaced
    assert json.loads((run / "status.json").read_text()) == {"state": "finished", "epoch": 2}
    assert _temp_files(run) == []
    _all_checkpoints_load(run)
    if point.startswith("checkpoint"):
        assert "a write cut short by a kill" in capsys.readouterr().err


@pytest.mark.parametrize("point", ["checkpoint-write", pytest.param("metrics-append", marks=pytest.mark.slow)])
def test_disk_full_mid_epoch_is_one_line_exit_4_and_resumable(tmp_path, tiny_args, point, monkeypatch, capsys):
    monkeypatch.setenv("GENLAT_FAULT", f"enospc:{point}@2")  # the write fails with ENOSPC half-way
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "2"]) == EXIT_OUTPUT
    err = capsys.readouterr().err
    (line,) = [ln for ln in err.splitlines() if ln.startswith("genlat: error:")]
    assert "no space left on the disk holding" in line and "re-run the same command" in line
    assert "Traceback" not in err
    run = only_run(tmp_path / "runs")
    assert [p.name for p in list_checkpoints(run / "checkpoints")] == ["epoch_001.pt"]
    assert load_latest(run / "checkpoints")[0]["epoch"] == 1
    assert _temp_files(run) == []  # no half file left behind
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "failed" and status["epoch"] == 1 and "no space left" in status["reason"]  # not "running"

    monkeypatch.delenv("GENLAT_FAULT")  # space freed: the same command continues
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "2"]) == 0
    assert epochs(run) == [1, 2]
    _all_checkpoints_load(run)


@pytest.mark.slow  # test_checkpoint.py holds the fast version of it
def test_truncated_newest_checkpoint_resumes_from_the_one_before(tmp_path, tiny_args, capsys):
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "2"]) == 0
    run = only_run(tmp_path / "runs")
    newest = run / "checkpoints" / "epoch_002.pt"
    newest.write_bytes(newest.read_bytes()[:1000])  # a disk or copy that cut it short
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "3"]) == 0
    err = capsys.readouterr().err
    assert "skipped an unreadable checkpoint: epoch_002.pt" in err and "resuming" in err and "after epoch 1" in err
    assert epochs(run) == [1, 2, 3]
    _all_checkpoints_load(run)


@pytest.mark.slow  # test_resume.py SIGTERMs a real process
def test_sigterm_fault_is_the_preemption_path(tmp_path, tiny_args, monkeypatch):
    """`term` goes through the run's own handler: exit 75, status preempted, then the same command finishes."""
    monkeypatch.setenv("GENLAT_FAULT", "term:mid-epoch@2")
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "2"]) == 75
    run = only_run(tmp_path / "runs")
    assert json.loads((run / "status.json").read_text()) == {"state": "preempted", "epoch": 1}
    monkeypatch.delenv("GENLAT_FAULT")
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "2"]) == 0
    assert epochs(run) == [1, 2]


def test_a_misspelt_fault_plan_is_refused(tmp_path, tiny_args, monkeypatch):
    monkeypatch.setenv("GENLAT_FAULT", "kill:checkpoint-writ@2")
    assert train_main([*tiny_args, "--epochs", "1"]) == 2
    assert not (tmp_path / "runs").exists()
