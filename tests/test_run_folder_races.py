"""Checks happen under the run folder's lock, and genlat never writes through a link planted in a
run folder: two commands started together on one folder with different settings never both act
(one trains, the other is refused with exit 4 and the winner's files stay its own); a link as
RUN/.lock, RUN/checkpoints or RUN/samples is refused with one line before anything is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from genlat.cli import train_main
from genlat.errors import EXIT_OK, EXIT_OUTPUT
from tests.helpers import ROOT, TINY, child_env, epochs


def test_a_command_that_starts_while_another_checks_the_folder_is_refused(tiny_args, tmp_path, monkeypatch):
    """The interleaving of the race, made certain: while this command is between reading the folder
    and writing to it (building its trainer), another train.py with another --lr runs on the same
    folder. It must be refused (exit 4); before, it trained and this command then replaced its run."""
    from genlat import run as run_module

    build = run_module.build_trainer
    other = {}

    def interleave(*args, **kwargs):
        other["proc"] = subprocess.run(
            [
                sys.executable,
                "train.py",
                *TINY,
                "--out",
                str(tmp_path / "runs"),
                "--name",
                "same",
                "--epochs",
                "1",
                "--eval_every",
                "0",
                "--lr",
                "0.0003",
            ],
            cwd=ROOT,
            env=child_env(),
            text=True,
            capture_output=True,
            timeout=300,
        )
        return build(*args, **kwargs)

    monkeypatch.setattr(run_module, "build_trainer", interleave)
    assert train_main([*tiny_args, "--name", "same", "--epochs", "1", "--eval_every", "0", "--lr", "0.0002"]) == EXIT_OK
    proc = other["proc"]
    assert proc.returncode == EXIT_OUTPUT, proc.stderr[-2000:]
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "another process" in err[0], err
    run = tmp_path / "runs" / "same"
    assert json.loads((run / "config.json").read_text())["lr"] == 0.0002
    assert epochs(run) == [1]
    import torch

    assert torch.load(run / "checkpoints" / "epoch_001.pt", weights_only=False)["config"]["lr"] == 0.0002


@pytest.mark.parametrize(
    "planted", [".lock", "checkpoints", "samples", "metrics.jsonl", "interpolation/epoch_001_slerp.gif"]
)
def test_a_link_planted_in_the_run_folder_is_refused(tiny_args, tmp_path, capsys, planted):
    assert train_main([*tiny_args, "--epochs", "1", "--eval_every", "0", "--name", "r"]) == EXIT_OK
    run = tmp_path / "runs" / "r"
    victim = tmp_path / "users"
    victim.mkdir()
    (victim / "epoch_001.pt").write_bytes(b"the user's own file")
    (victim / ".x.tmp").write_bytes(b"the user's own temp file")
    target = victim / "epoch_001.pt" if planted in (".lock", "metrics.jsonl") else victim
    path = run / planted
    if path.is_dir():
        os.rename(path, tmp_path / "moved-away")
    else:
        path.unlink(missing_ok=True)
    path.symlink_to(target)
    capsys.readouterr()
    assert (
        train_main([*tiny_args, "--epochs", "3", "--eval_every", "0", "--name", "r", "--keep_checkpoints", "1"])
        == EXIT_OUTPUT
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "link" in err[0], err
    assert sorted(p.name for p in victim.iterdir()) == [".x.tmp", "epoch_001.pt"]
    assert (victim / "epoch_001.pt").read_bytes() == b"the user's own file"


def test_a_refused_command_leaves_no_folder_behind(tmp_path, tiny_args, monkeypatch):
    from genlat import run as run_module

    def refuse(*a, **k):
        raise run_module.OutputError("refused for the test")

    monkeypatch.setattr(run_module, "resume_point", refuse)
    assert train_main([*tiny_args, "--epochs", "1", "--eval_every", "0", "--name", "new"]) == EXIT_OUTPUT
    assert not (tmp_path / "runs" / "new").exists()
