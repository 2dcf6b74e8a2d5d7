"""The networks. Which family uses which, and how they are built and seeded: genlat.trainers."""

from __future__ import annotations

from torch import nn

from genlat.models.dcgan import Discriminator, Generator, dcgan_init
from genlat.models.vae import VAE


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["count_parameters", "dcgan_init", "Generator", "Discriminator", "VAE"]
