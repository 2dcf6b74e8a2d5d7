"""What a run spends outside the step, each timed with genlat's own code: the epoch's writes and
W&B entries (`genlat.run._write_epoch`: sample grid PNG, metrics line, the `samples` image and the
live epoch-series table), the checkpoint, the evaluation (`Evaluator`), the last epoch's panels and
the final tables; and the shapes renderer's own speed."""

from __future__ import annotations

import os
import statistics
import time
from itertools import islice
from pathlib import Path

import torch

from genlat.checkpoint import save_checkpoint
from genlat.metrics.evaluate import Evaluator
from genlat.rundir import RunDir
from genlat.run import _panel_rows, _write_epoch
from genlat.tracking import Tracker


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def open_tracker(cfg, root: Path, series: tuple[str, ...]) -> tuple[RunDir, Tracker]:
    """A real W&B run in `root` (offline: the benchmark never talks to a server)."""
    run = RunDir(root / cfg.run_name)
    run.create()
    return run, Tracker(cfg, run, "benchmark" + str(os.getpid()), cfg.to_dict(), series)


def epoch_costs(loop, run: RunDir, tracker: Tracker, repeats: int) -> dict:
    """Seconds per epoch of the epoch's writes + W&B entries, and of the checkpoint (medians over
    `repeats` epochs, after one untimed epoch: W&B's first image and table set-up), then the
    once-per-run extras: the last epoch's panels and the final tables + W&B finish."""
    cfg, trainer, stats = loop.cfg, loop.trainer, loop.last_stats
    state = {**trainer.state_dict(), "config": cfg.to_dict()}
    write, ckpt = [], []
    for epoch in range(1, repeats + 2):
        seconds = _timed(lambda: _write_epoch(cfg, trainer, run, tracker, epoch, stats), loop.device)
        checkpoint = _timed(lambda: save_checkpoint(run.checkpoints, epoch, {**state, "epoch": epoch},
                                                    cfg.keep_checkpoints), loop.device)
        if epoch > 1:
            write.append(seconds)
            ckpt.append(checkpoint)
    panels = _timed(lambda: _write_epoch(cfg, trainer, run, tracker, cfg.epochs, stats), loop.device)
    t0 = time.perf_counter()
    tracker.log_final_tables(run.read_metrics(), _panel_rows(cfg, trainer.interp_methods, run))
    tracker.finish()
    return {"tracking_s": statistics.median(write), "tracking_all_s": write,
            "checkpoint_s": statistics.median(ckpt), "last_epoch_panels_s": panels,
            "final_tables_s": time.perf_counter() - t0}


def eval_cost(loop, repeats: int) -> dict:
    """Seconds of one per-epoch evaluation (cfg.eval_samples images, every metric a run records)."""
    evaluator = Evaluator(loop.cfg, loop.source, loop.device, log=lambda msg: None)
    decoder = loop.accelerator.unwrap_model(loop.trainer.decoder)
    rows = []
    times = [_timed(lambda: rows.append(evaluator(loop.trainer.generate, decoder)), loop.device)
             for _ in range(repeats + 1)][1:]
    claims = [row["eval/claims_seconds"] for row in rows[1:]]  # detail, fragments, Jacobian (issue 14)
    return {"eval_s": statistics.median(times), "eval_all_s": times, "eval_samples": loop.cfg.eval_samples,
            "claims_s": statistics.median(claims), "claims_all_s": claims}


def renderer_rate(loop, batches: int, repeats: int) -> dict:
    """images/s of the shapes renderer alone, as the trainer consumes it (on the device, per batch)."""
    source, cfg = loop.source, loop.cfg
    rates = []
    for rep in range(repeats):
        stream = source.batches(1000 + rep, cfg.batch_size, 0, 1, loop.device)
        next(stream)  # the epoch's index permutation: once per epoch, not per batch
        seconds = _timed(lambda: list(islice(stream, batches)), loop.device)
        rates.append(batches * cfg.batch_size / seconds)
    return {"images_per_s": statistics.median(rates), "all": rates}
