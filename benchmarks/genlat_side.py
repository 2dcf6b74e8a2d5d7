"""genlat's side: the real trainer and data path of a run, driven block by block.

The step loop is `GANTrainer.train_epoch` over `ShapesSource.batches` (rendered on the device),
with the same per-step callback a run has: a host read of the running losses and a W&B
`train/*` point every `log_every` steps (W&B offline, a real `Tracker`). Each block is one short
"epoch" of the trainer, so blocks replay nothing and every block pays the epoch's set-up.
"""

from __future__ import annotations

import dataclasses
import time
from itertools import islice

import torch

from genlat.config import TrainConfig
from genlat.data import build_source
from genlat.run import make_accelerator
from genlat.trainers import build_trainer

class GenlatLoop:
    def __init__(self, cfg: TrainConfig):
        self.cfg, self.tracker = cfg, None  # the tracker comes later: it needs the trainer's SERIES
        self.accelerator, self.numerics = make_accelerator(cfg)
        self.source = build_source(cfg)
        self.trainer = build_trainer(cfg, self.accelerator, self.source)
        self.trainer.prepare()
        self.epoch, self.logged = 0, 0
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
        z = torch.randn(self.cfg.batch_size, self.cfg.zn, device=self.device)
        return lambda: trainer._step(real, z)

    def _on_step(self, steps: int):
        cfg = self.cfg

        def on_step(step, sums):
            if step % cfg.log_every == 0 or step == steps:
                losses = dict(zip(self.trainer.STATS, (sums / step).tolist()))  # the run's one host read per log_every
                self.logged += 1
                if self.tracker is not None:
                    self.tracker.log_train(self.logged, losses)

        return on_step

    def run(self, steps: int) -> tuple[int, float]:
        """`steps` training steps as one epoch of a run; returns (images, seconds)."""
        self.epoch += 1
        batches = self.source.batches(self.epoch, self.cfg.batch_size, 0, 1, self.device)
        t0 = time.perf_counter()
        stats = self.trainer.train_epoch(self.epoch, islice(batches, steps), steps, self._on_step(steps),
                                         lambda step: False)
        seconds = time.perf_counter() - t0
        self.last_stats = stats
        return stats.images, seconds  # train_epoch ends with a host read: the device is done
