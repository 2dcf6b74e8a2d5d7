"""Divergence (genlat.health): non-finite losses and total mode collapse end a run as `diverged`,
recorded in status.json, the W&B summary and the sweep's state; the sweep goes on."""

import json
import time

import pytest
import torch

from genlat.cli import train_main
from genlat.health import CollapseWatch, spread
from genlat.sweep.cli import sweep_main
from genlat.trainers import GANTrainer
from tests.helpers import epochs, metrics_rows, only_run, run_sweep, sweep_file


def _wandb_records(run, expect: bytes) -> bytes:
    """The offline W&B run's records (protobuf: strings are stored as they are). In-process, W&B's
    service may still be writing them for a moment after the run has finished."""
    deadline = time.monotonic() + 60
    while True:
        (records,) = (run / "wandb").glob("offline-run-*/*.wandb")
        data = records.read_bytes()
        if expect in data or time.monotonic() > deadline:
            return data
        time.sleep(0.5)


def test_spread_is_zero_for_one_image_repeated_and_scales_with_the_images():
    x = torch.rand(16, 1, 8, 8)
    assert spread(x[:1].expand(16, -1, -1, -1)) == 0
    assert spread(2 * x) == pytest.approx(2 * spread(x))


def test_collapse_needs_a_fall_from_diversity_for_k_epochs_in_a_row():
    watch = CollapseWatch(real_spread=10.0, min_spread=0.03, epochs=3)
    for ratio in (0.001, 0.0002, 0.01, 0.0):  # never diverse yet: a slow start, not a collapse
        assert watch.update(ratio) is None
    assert watch.update(0.2) is None  # diverse: the rule is armed
    assert watch.update(0.01) is None and watch.update(0.02) is None
    assert watch.update(0.5) is None  # recovered: the count starts again
    assert [watch.update(r) for r in (0.0, 0.001)] == [None, None]
    reason = watch.update(0.0)
    assert reason.startswith("mode collapse") and "3 epoch(s)" in reason and "--collapse_spread=0.03" in reason
    # a resume rebuilds the count from metrics.jsonl's epoch/bank_spread values
    resumed = CollapseWatch(10.0, 0.03, 3, history=[0.001, 0.2, 0.0, 0.0])
    assert resumed.update(0.0) is not None
    assert CollapseWatch(10.0, 0.0, 1, history=[0.5]).update(0.0) is None  # --collapse_spread 0: never


def test_nan_losses_end_the_run_as_diverged(tmp_path, tiny_args, monkeypatch, capsys):
    monkeypatch.setenv("GENLAT_FAULT", "nan:loss@2")
    assert train_main([*tiny_args, "--epochs", "3", "--eval_every", "0"]) == 5
    run = only_run(tmp_path / "runs")
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "diverged" and status["epoch"] == 1 and status["reason"] == "non-finite loss: loss_d=nan"
    assert epochs(run) == [1]  # nothing of the non-finite epoch is written
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["epoch_001.pt"]
    assert b"non-finite loss: loss_d=nan" in _wandb_records(run, b"non-finite")  # the W&B summary's reason
    assert "diverged in epoch 2: non-finite loss" in capsys.readouterr().err


def test_total_collapse_ends_the_run_as_diverged(tmp_path, tiny_args, monkeypatch):
    """A generator that made diverse images in epoch 1, then one image for every z."""
    calls = []

    def bank(self):
        calls.append(1)
        images = torch.rand(self.cfg.n_samples, 1, 32, 32) * 2 - 1
        return images if len(calls) == 1 else images[:1].expand_as(images).clone()

    monkeypatch.setattr(GANTrainer, "sample_bank", bank)
    args = [*tiny_args, "--epochs", "5", "--eval_every", "0", "--collapse_epochs", "2"]
    assert train_main(args) == 5
    run = only_run(tmp_path / "runs")
    rows = metrics_rows(run)
    assert [r["epoch"] for r in rows] == [1, 2, 3]  # stopped after 2 collapsed epochs; they are kept
    assert rows[0]["epoch/bank_spread"] > 0.5 and rows[1]["epoch/bank_spread"] == rows[2]["epoch/bank_spread"] == 0
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "diverged" and status["epoch"] == 3 and status["reason"].startswith("mode collapse")
    assert b"mode collapse" in _wandb_records(run, b"mode collapse")


def test_a_diverged_trial_is_a_result_and_the_sweep_goes_on(tmp_path, capsys, monkeypatch):
    """A trial whose losses go non-finite in its second epoch (genlat.faults: --lr is bounded now, so
    an overflowing lr is refused up front) is recorded, not retried, and the next trial runs to the end."""
    d = tmp_path / "sweep"
    monkeypatch.setenv("GENLAT_FAULT", "nan:loss@2")  # only the 2-epoch trial reaches epoch 2
    path = sweep_file(tmp_path / "div.yaml", zn=(8,), params={"epochs": {"values": [2, 1]}})
    done = run_sweep([str(path), "--dir", str(d), "--retries", "2"])
    assert done.returncode == 0, done.stderr
    first, second = json.loads((d / "sweep.json").read_text())["trials"]
    assert first["state"] == "diverged" and first["attempts"] == 1 and first["exit_code"] == 5
    assert first["error"].startswith("non-finite loss")
    assert second["state"] == "finished"
    assert sweep_main(["--status", str(d)]) == 0
    out = capsys.readouterr().out
    assert "diverged" in out and f"diverged: {first['name']}: non-finite loss" in out
