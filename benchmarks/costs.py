"""What a run spends outside the step, each timed with genlat's own code: the epoch's writes and
W&B entries (sample grid PNG, metrics line, the `samples` image and the live epoch-series table), the
checkpoint, the evaluation, the last epoch's panels and the final tables, each through the public
methods of `genlat.run.Run`; and the shapes renderer's own speed."""

from __future__ import annotations

import statistics
import time
from functools import partial
from itertools import islice

import torch

from genlat.errors import EXIT_OK


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def epoch_costs(loop, repeats: int) -> dict:
    """Seconds per epoch of the epoch's writes + W&B entries (`Run.epoch_row` without the evaluation,
    then `Run.record`), and of the checkpoint (medians over `repeats` epochs, after one untimed epoch:
    W&B's first image and table set-up), then the once-per-run extras: the last epoch's panels and
    `Run.finish` (the final tables + W&B finish)."""
    run, stats = loop.genlat_run, loop.last_stats

    def write(epoch: int) -> None:
        run.record(epoch, *run.epoch_row(epoch, stats, measure=False))

    writes, ckpt = [], []
    for epoch in range(1, repeats + 2):
        seconds = _timed(partial(write, epoch), loop.device)
        checkpoint = _timed(partial(run.checkpoint, epoch), loop.device)
        if epoch > 1:
            writes.append(seconds)
            ckpt.append(checkpoint)
    panels = _timed(lambda: write(run.cfg.epochs), loop.device)
    t0 = time.perf_counter()
    run.finish(EXIT_OK)
    return {
        "tracking_s": statistics.median(writes),
        "tracking_all_s": writes,
        "checkpoint_s": statistics.median(ckpt),
        "last_epoch_panels_s": panels,
        "final_tables_s": time.perf_counter() - t0,
    }


def eval_cost(loop, repeats: int) -> dict:
    """Seconds of one per-epoch evaluation (cfg.eval_samples images, every metric a run records)."""
    rows = []
    times = [_timed(lambda: rows.append(loop.genlat_run.measure()), loop.device) for _ in range(repeats + 1)][1:]
    claims = [row["eval/claims_seconds"] for row in rows[1:]]  # detail, fragments, Jacobian (issue 14)
    return {
        "eval_s": statistics.median(times),
        "eval_all_s": times,
        "eval_samples": loop.cfg.eval_samples,
        "claims_s": statistics.median(claims),
        "claims_all_s": claims,
    }


def renderer_rate(loop, batches: int, repeats: int) -> dict:
    """images/s of the shapes renderer alone, as the trainer consumes it (on the device, per batch)."""
    source, cfg = loop.source, loop.cfg
    rates = []
    for rep in range(repeats):
        stream = source.batches(1000 + rep, cfg.batch_size, 0, 1, loop.device)
        next(stream)  # the epoch's index permutation: once per epoch, not per batch
        seconds = _timed(partial(lambda s: list(islice(s, batches)), stream), loop.device)
        rates.append(batches * cfg.batch_size / seconds)
    return {"images_per_s": statistics.median(rates), "all": rates}
