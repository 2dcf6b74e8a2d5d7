"""genlat's side: a real run (`genlat.run.Run`), driven block by block through its public methods.

`Run.prepare` opens a run directory under the benchmark's temporary folder with W&B offline (a real
`Tracker`) and the evaluator; each block is one short epoch of `Run.train_epoch` over the shapes
renderer, with the same per-step work a run has (a host read of the running losses and a W&B
`train/*` point every `log_every` steps). Blocks replay nothing and every block pays the epoch's set-up.
"""

from __future__ import annotations

import dataclasses
import time

from genlat.config import TrainConfig
from genlat.run import Run
from genlat.trainers import build_trainer


class GenlatLoop:
    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.genlat_run = Run(cfg, quiet=True)
        self.genlat_run.prepare()
        self.accelerator, self.numerics = self.genlat_run.accelerator, self.genlat_run.numerics
        self.source, self.trainer = self.genlat_run.source, self.genlat_run.trainer
        self.epoch = 0
        self.last_stats = None  # the newest block's epoch statistics (what a run's epoch writes)

    @property
    def device(self):
        return self.accelerator.device

    def eager_step(self):
        """One training step as a callable, on an uncompiled trainer (FLOP counting needs eager ops)."""
        trainer = self.trainer
        if self.cfg.compile:
            trainer = build_trainer(dataclasses.replace(self.cfg, compile=False), self.accelerator, self.source)
            trainer.prepare()
        real = next(self.source.batches(0, self.cfg.batch_size, 0, 1, self.device))
        return lambda: trainer.step(real)

    def run(self, steps: int) -> tuple[int, float]:
        """`steps` training steps as one epoch of a run; returns (images, seconds)."""
        self.epoch += 1
        t0 = time.perf_counter()
        stats = self.genlat_run.train_epoch(self.epoch, steps)
        seconds = time.perf_counter() - t0
        self.last_stats = stats
        return stats.images, seconds  # train_epoch ends with a host read: the device is done

    def close(self) -> None:
        """End the run's W&B run (if `Run.finish` has not) and release its folder: one process may
        hold only one W&B run at a time."""
        self.genlat_run.tracker.finish()
        self.genlat_run.lock.release()
