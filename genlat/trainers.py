"""`build_trainer`: the one place that maps `cfg.model` to its family's trainer."""

from __future__ import annotations

from genlat.trainer import GANTrainer
from genlat.trainer_base import Trainer
from genlat.vae_trainer import VAETrainer


def build_trainer(cfg, accelerator, source) -> Trainer:
    if cfg.model == "vae":
        return VAETrainer(cfg, accelerator, source)  # it encodes fixed real images from the source
    return GANTrainer(cfg, accelerator, source.channels)  # config.py refuses an unknown model earlier
