"""The run folder has one writer, and a rerun keeps what the user has: a second process is refused
with the holder's host and pid (a lock left by a dead one is taken over); a damaged metrics line
never takes later lines with it; the checkpoint's own config is checked when config.json is gone;
a rerun with nothing to do writes nothing; damaged files and odd paths give one line, not a traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from genlat.cli import train_main
from genlat.errors import EXIT_OK, EXIT_OUTPUT
from tests.helpers import epochs, only_run

NO_EVAL = ["--eval_every", "0"]


def _err(capsys) -> str:
    return capsys.readouterr().err


def _snapshot(run: Path) -> dict[str, bytes]:
    """Every file genlat wrote, and which W&B runs exist (W&B's service may still flush the last
    run's own logs after it returned: not ours to compare)."""
    files = {
        str(p.relative_to(run)): p.read_bytes()
        for p in sorted(run.rglob("*"))
        if p.is_file() and "wandb" not in p.relative_to(run).parts
    }
    return {**files, "W&B runs": sorted(p.name for p in (run / "wandb").glob("offline-run-*"))}


@pytest.fixture
def holder(tmp_path):
    """Another process that holds RUN/.lock as a training would; killed at the end."""
    procs = []

    def start(run: Path) -> subprocess.Popen:
        run.mkdir(parents=True, exist_ok=True)
        code = (
            "import fcntl, json, os, socket, sys, time; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX);"
            "f.truncate(0); f.write(json.dumps({'host': socket.gethostname(), 'pid': os.getpid()})); f.flush();"
            "print('held', flush=True); time.sleep(600)"
        )
        proc = subprocess.Popen([sys.executable, "-c", code, str(run / ".lock")], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "held"
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        p.kill()
        p.wait()


def test_a_second_writer_is_refused_and_a_dead_ones_lock_taken_over(tmp_path, tiny_args, capsys, holder):
    run = tmp_path / "runs" / "one"
    other = holder(run)
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "1", "--name", "one"]) == EXIT_OUTPUT
    err = _err(capsys)
    assert err.strip() == (
        f"genlat: error: {run} is being written by another process (host {socket.gethostname()}, "
        f"pid {other.pid}); wait for it to end, or pick another --name or --out"
    )
    assert not (run / "config.json").exists() and not list(run.rglob("offline-run-*"))  # no W&B run either
    other.send_signal(signal.SIGKILL)  # it dies holding the lock; the kernel drops it
    other.wait()
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "1", "--name", "one"]) == EXIT_OK
    assert json.loads((run / ".lock").read_text())["pid"] == os.getpid()  # the file now names the new holder
    assert epochs(run) == [1]


def test_a_damaged_first_line_keeps_every_later_line(tmp_path, tiny_args, capsys):
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "2"]) == EXIT_OK
    run = only_run(tmp_path / "runs")
    lines = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    (run / "metrics.jsonl").write_text(lines[0][: len(lines[0]) // 2] + "\n" + lines[1])  # the first line cut in half
    _err(capsys)
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "3"]) == EXIT_OK  # extend the run
    err = _err(capsys)
    assert (
        err.count("line 1 damaged and dropped") == 1
        and "epoch(s) 1 have no metrics line: their numbers are lost" in err
    )
    after = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    assert after[0] == lines[1] and epochs(run) == [2, 3]  # epoch 2's intact line kept as it was


def test_a_lost_middle_line_retrains_nothing(tmp_path, tiny_args, capsys):
    """Epoch 2's line is lost but checkpoint 3 is kept: nothing kept is retrained or replaced."""
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "3", "--keep_checkpoints", "3"]) == EXIT_OK
    run = only_run(tmp_path / "runs")
    lines = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    (run / "metrics.jsonl").write_text(lines[0] + '{"note": "no epoch here"}\n' + lines[2])  # epoch 2's line lost
    newest = (run / "checkpoints" / "epoch_003.pt").read_bytes()
    _err(capsys)
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "4", "--keep_checkpoints", "3"]) == EXIT_OK
    err = _err(capsys)
    assert "line 2 damaged" in err and "epoch(s) 2 have no metrics line: their numbers are lost" in err, err
    assert "resuming" in err and "after epoch 3" in err and "Traceback" not in err
    after = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    assert after[:2] == [lines[0], lines[2]] and epochs(run) == [1, 3, 4]
    assert (run / "checkpoints" / "epoch_003.pt").read_bytes() == newest


def test_a_lost_newest_line_is_replayed_from_the_checkpoint_before(tmp_path, tiny_args, capsys):
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "3", "--keep_checkpoints", "3"]) == EXIT_OK
    run = only_run(tmp_path / "runs")
    lines = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    (run / "metrics.jsonl").write_text(lines[0] + lines[1])  # epoch 3's line lost
    _err(capsys)
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "3", "--keep_checkpoints", "3"]) == EXIT_OK
    assert "epoch 3 has no metrics line: replaying it from the checkpoint of epoch 2" in _err(capsys)
    after = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    assert after[:2] == lines[:2] and epochs(run) == [1, 2, 3]
    assert json.loads(after[2])["epoch/loss_g"] == json.loads(lines[2])["epoch/loss_g"]  # the same epoch, replayed


@pytest.mark.parametrize("removed", ["folder", "newest two"])
def test_lost_checkpoints_are_refused_not_retrained(tmp_path, tiny_args, capsys, removed):
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "3", "--keep_checkpoints", "3"]) == EXIT_OK
    run = only_run(tmp_path / "runs")
    if removed == "folder":
        for p in (run / "checkpoints").iterdir():
            p.unlink()
        (run / "checkpoints").rmdir()
    else:
        for e in (2, 3):
            (run / "checkpoints" / f"epoch_00{e}.pt").unlink()
    before = (run / "metrics.jsonl").read_bytes()
    _err(capsys)
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "4", "--keep_checkpoints", "3"]) == EXIT_OUTPUT
    err = _err(capsys).strip().splitlines()
    assert len(err) == 1 and "metrics for epochs up to 3" in err[0] and "Restore the missing checkpoints" in err[0], err
    assert (run / "metrics.jsonl").read_bytes() == before


def test_the_checkpoint_config_is_checked_when_config_json_is_gone(tmp_path, tiny_args, capsys):
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "1"]) == EXIT_OK
    run = only_run(tmp_path / "runs")
    (run / "config.json").unlink()
    _err(capsys)
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "2", "--lr", "1e-3", "--name", run.name]) == EXIT_OUTPUT
    assert "holds a run with lr=0.0002 (this command: lr=0.001)" in _err(capsys)
    assert not (run / "config.json").exists() and epochs(run) == [1]


def test_a_rerun_with_nothing_to_do_writes_nothing(tmp_path, tiny_args, capsys):
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "2"]) == EXIT_OK
    run = only_run(tmp_path / "runs")
    before = _snapshot(run)
    assert train_main([*tiny_args, *NO_EVAL, "--epochs", "1"]) == EXIT_OK
    assert "already trained 2 of 1 epochs; nothing to do" in _err(capsys)
    assert _snapshot(run) == before  # config.json still says epochs 2; no new W&B run


@pytest.mark.parametrize("text", ["{cut", "[]", "\udcff"])
def test_a_damaged_config_json_is_one_line(tmp_path, tiny_args, capsys, text):
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    (run / "config.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    assert train_main([*tiny_args, *NO_EVAL, "--name", "r"]) == EXIT_OUTPUT
    err = _err(capsys)
    assert err.count("\n") == 1 and "config.json is damaged" in err and "Traceback" not in err
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]  # nothing else written


def test_paths_and_notes_are_never_read_as_markup(tmp_path, tiny_args, capsys):
    out = tmp_path / "x[/y]"
    args = [*tiny_args, *NO_EVAL, "--out", str(out), "--name", "r[bold]"]
    assert train_main([*args, "--epochs", "1"]) == EXIT_OK
    run = out / "r[bold]"
    (run / ".config.json.abc.tmp").write_text("half")  # a write cut by a kill: the rerun says it removed it
    (run / "checkpoints" / "epoch_001.pt").write_bytes(b"garbage")  # and that no checkpoint could be read
    _err(capsys)
    assert train_main([*args, "--epochs", "2"]) == EXIT_OK
    err = _err(capsys)
    assert "[note] removed .config.json.abc.tmp" in err and "MarkupError" not in err
    assert "[warning] skipped an unreadable checkpoint: epoch_001.pt" in err
    assert (
        err.count(f"[warning] no checkpoint in {run / 'checkpoints'} could be read: training starts again from epoch 0")
        == 1
    )
    assert f"run directory {run}" in err and epochs(run) == [1, 2]
