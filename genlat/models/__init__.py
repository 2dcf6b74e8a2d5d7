"""Model families. `build_models` is the one place a trainer (or `genlat eval`) gets its networks from."""

from __future__ import annotations

import torch
from torch import nn

from genlat.models.dcgan import Discriminator, Generator, dcgan_init
from genlat.models.vae import VAE


def build_models(cfg, channels: int) -> dict[str, nn.Module]:
    """The networks of `cfg.model` by checkpoint key ({"g", "d"} or {"vae"}), initialised from
    `cfg.seed` so every rank starts equal."""
    torch.manual_seed(cfg.seed)
    if cfg.model == "dcgan":
        nets = {"g": Generator(cfg.zn, channels, cfg.image_size, cfg.ngf), "d": Discriminator(channels, cfg.image_size, cfg.ndf)}
    elif cfg.model == "vae":
        nets = {"vae": VAE(cfg.zn, channels, cfg.image_size, cfg.ngf, cfg.ndf)}
    else:
        raise ValueError(f"unknown model {cfg.model!r}")  # config.py refuses this earlier
    for net in nets.values():
        net.apply(dcgan_init)
    return nets


def decoder_of(nets: dict[str, nn.Module]) -> nn.Module:
    """The network that maps z (B, zn) to images: the GAN's G or the VAE's decoder."""
    return nets["vae"].decoder if "vae" in nets else nets["g"]


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["build_models", "count_parameters", "decoder_of", "Generator", "Discriminator", "VAE"]
