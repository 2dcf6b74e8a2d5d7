"""Under `wandb agent` a run folder belongs to its W&B run: the agent's WANDB_RUN_ID is part of the
derived folder name, so a second sweep of the same file, or a manual run with the same settings,
never resumes (or skips as finished) a folder of another W&B run; and WANDB_RUN_ID naming another
run than the folder's is refused before anything is written."""

from __future__ import annotations

import json

from genlat.cli import train_main
from genlat.errors import EXIT_OK, EXIT_OUTPUT
from tests.helpers import epochs

NO_EVAL = ["--epochs", "1", "--eval_every", "0"]


def _under_agent(monkeypatch, run_id: str) -> None:
    monkeypatch.setenv("WANDB_SWEEP_ID", "swp00001")
    monkeypatch.setenv("WANDB_RUN_ID", run_id)


def test_two_agent_runs_with_the_same_settings_train_in_two_folders(tiny_args, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    assert train_main([*tiny_args, *NO_EVAL]) == EXIT_OK  # a manual run first: the plain derived name
    (manual,) = runs.iterdir()
    before = {p: p.read_bytes() for p in manual.rglob("*") if p.is_file() and "wandb" not in p.parts}
    for run_id in ("agentrn1", "agentrn2"):  # then two sweeps of the same file, one grid point each
        _under_agent(monkeypatch, run_id)
        assert train_main([*tiny_args, *NO_EVAL]) == EXIT_OK
    folders = sorted(p.name for p in runs.iterdir())
    assert folders == sorted([manual.name, f"{manual.name}-agentrn1", f"{manual.name}-agentrn2"])
    for run_id in ("agentrn1", "agentrn2"):
        run = runs / f"{manual.name}-{run_id}"
        assert json.loads((run / "config.json").read_text())["wandb_id"] == run_id
        assert epochs(run) == [1]  # trained, not "nothing to do"
    assert {p: p.read_bytes() for p in manual.rglob("*") if p.is_file() and "wandb" not in p.parts} == before


def test_a_requeued_agent_run_resumes_its_own_folder(tiny_args, tmp_path, monkeypatch):
    _under_agent(monkeypatch, "agentrn3")
    assert train_main([*tiny_args, "--epochs", "1", "--eval_every", "0"]) == EXIT_OK
    assert train_main([*tiny_args, "--epochs", "2", "--eval_every", "0"]) == EXIT_OK  # same id: same folder
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.endswith("-agentrn3") and epochs(run) == [1, 2]


def test_wandb_run_id_of_another_run_is_refused(tiny_args, tmp_path, monkeypatch, capsys):
    assert train_main([*tiny_args, *NO_EVAL, "--name", "mine"]) == EXIT_OK
    run = tmp_path / "runs" / "mine"
    own = json.loads((run / "config.json").read_text())["wandb_id"]
    before = (run / "metrics.jsonl").read_bytes()
    monkeypatch.setenv("WANDB_RUN_ID", "otherrun")
    capsys.readouterr()
    assert train_main([*tiny_args, "--epochs", "2", "--eval_every", "0", "--name", "mine"]) == EXIT_OUTPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and own in err[0] and "otherrun" in err[0], err
    assert (run / "metrics.jsonl").read_bytes() == before
