"""The model families: `--model` -> its trainer class, which also names the family's networks
(`networks`) and its decoder (`decoder_of`). The names and classes come from the one table,
genlat.models.MODELS (the config's --model choices too). `build_trainer`, `build_models` (for
`genlat eval` and the benchmark) and `decoder_of` all read FAMILIES; nothing else dispatches on cfg.model."""

from __future__ import annotations

import importlib

import torch
from torch import nn

from genlat.checkpoint import network_shapes
from genlat.models import MODELS
from genlat.trainers.base import EpochStats, Trainer
from genlat.trainers.gan import GANTrainer
from genlat.trainers.vae import VAETrainer


def _trainer(path: str) -> type[Trainer]:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


FAMILIES: dict[str, type[Trainer]] = {name: _trainer(m.trainer) for name, m in MODELS.items()}


def build_trainer(cfg, accelerator, source) -> Trainer:
    return FAMILIES[cfg.model](cfg, accelerator, source)


def build_models(cfg, channels: int) -> dict[str, nn.Module]:
    """The networks of `cfg.model` by checkpoint key ({"g", "d"} or {"vae"}), initialised from `cfg.seed`."""
    return FAMILIES[cfg.model].build_nets(cfg, channels)


def checkpoint_shapes(cfg, channels: int) -> dict[str, dict[str, tuple]]:
    """{network key: {parameter: shape}} of `cfg.model`'s networks, what a checkpoint of this run must
    hold (genlat.checkpoint.checkpoint_problem); built on the meta device, so it allocates nothing."""
    with torch.device("meta"):
        return network_shapes(FAMILIES[cfg.model].networks(cfg, channels))


def decoder_of(cfg, nets: dict[str, nn.Module]) -> nn.Module:
    """The network that maps z (B, zn) to images: the GAN's G or the VAE's decoder."""
    return FAMILIES[cfg.model].decoder_of(nets)


__all__ = [
    "FAMILIES",
    "EpochStats",
    "GANTrainer",
    "Trainer",
    "VAETrainer",
    "build_models",
    "build_trainer",
    "checkpoint_shapes",
    "decoder_of",
]
