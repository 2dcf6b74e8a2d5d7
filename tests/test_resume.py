"""Resume: a run stopped after epoch 2 and continued ends exactly where an uninterrupted one does."""

import json
import os
import signal
import subprocess
import sys
import time

import torch

from genlat.cli import train_main
from tests.helpers import ROOT, epochs, metrics_rows, only_run
from tests.wandb_log import of_kind, the_log


def _final(run):
    state = torch.load(sorted((run / "checkpoints").glob("*.pt"))[-1], weights_only=True)
    return state, (run / "samples" / f"epoch_{state['epoch']:03d}.png").read_bytes()


def test_stop_after_epoch_2_then_resume_equals_uninterrupted(tmp_path, tiny_args):
    whole = [*tiny_args, "--out", str(tmp_path / "a")]
    split = [*tiny_args, "--out", str(tmp_path / "b")]
    assert train_main([*whole, "--epochs", "4"]) == 0
    assert train_main([*split, "--epochs", "2"]) == 0  # stops after epoch 2
    assert train_main([*split, "--epochs", "4", "--resume"]) == 0  # continues from its checkpoint

    run_a, run_b = only_run(tmp_path / "a"), only_run(tmp_path / "b")
    state_a, grid_a = _final(run_a)
    state_b, grid_b = _final(run_b)
    assert state_a["epoch"] == state_b["epoch"] == 4
    for net in ("g", "d"):
        for key in state_a[net]:
            assert torch.equal(state_a[net][key], state_b[net][key]), (net, key)
    assert grid_a == grid_b  # the same pixels, byte for byte
    rows = metrics_rows(run_b)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    # the resumed run continued the same W&B run id
    # offline-run-DATE_TIME-ID, with "-N" appended by W&B when two starts share a second
    ids = {p.name.split("-")[3] for p in (run_b / "wandb").glob("offline-run-*")}
    assert ids == {json.loads((run_b / "config.json").read_text())["wandb_id"]}


def test_sigterm_mid_run_exits_preempted_and_resumes(tmp_path, tiny_args):
    args = [sys.executable, str(ROOT / "train.py"), *tiny_args, "--epochs", "30", "--epoch_size", "256"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "runs"
    deadline = time.time() + 120
    while time.time() < deadline and not list(runs.glob("*/checkpoints/epoch_001.pt")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 75, err[-2000:]
    run = only_run(runs)
    # W&B's way to have a preempted sweep run requeued: marked preempting, then ended with genlat's exit code
    log = the_log(run)
    assert of_kind(log, "preempting") and [e.exit_code for e in of_kind(log, "exit")] == [75]
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "preempted"
    done = status["epoch"]
    rows = epochs(run)
    assert rows == list(range(1, done + 1))
    # the same command continues it to the end, each epoch once in metrics.jsonl
    env = {**os.environ}
    finish = subprocess.run(
        [*args[:-4], "--epochs", str(done + 1), "--epoch_size", "256"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert finish.returncode == 0, finish.stderr[-2000:]
    rows = epochs(run)
    assert rows == list(range(1, done + 2))
