"""Model families. `build_models` is the one place the trainer gets its networks from."""

from __future__ import annotations

import torch
from torch import nn

from genlat.models.dcgan import Discriminator, Generator, dcgan_init


def build_models(cfg, channels: int) -> tuple[nn.Module, nn.Module]:
    """Return (G, D) for `cfg.model`, initialised from `cfg.seed` so every rank starts equal."""
    torch.manual_seed(cfg.seed)
    if cfg.model == "dcgan":
        g = Generator(cfg.zn, channels, cfg.image_size, cfg.ngf)
        d = Discriminator(channels, cfg.image_size, cfg.ndf)
        g.apply(dcgan_init)
        d.apply(dcgan_init)
        return g, d
    raise ValueError(f"unknown model {cfg.model!r}")  # config.py refuses this earlier


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["build_models", "count_parameters", "Generator", "Discriminator"]
