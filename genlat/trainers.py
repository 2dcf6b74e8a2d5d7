"""`build_trainer`: the one place that maps `cfg.model` to its family's trainer."""

from __future__ import annotations

from genlat.trainer import GANTrainer
from genlat.trainer_base import Trainer

TRAINERS = {"dcgan": GANTrainer}


def build_trainer(cfg, accelerator, channels: int) -> Trainer:
    return TRAINERS[cfg.model](cfg, accelerator, channels)  # config.py refuses an unknown model earlier
