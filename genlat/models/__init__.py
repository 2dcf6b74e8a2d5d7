"""The networks, and the one table of model families. This file and widths.py import no torch: the
config reads them to check --model and the memory a run needs before torch is loaded. How each family
is built, seeded and trained: genlat.trainers."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from torch import nn


class Model(NamedTuple):
    help: str  # what `--help` says of it
    trainer: str  # "module:Class" of its genlat.trainers.Trainer, imported when a run starts


MODELS = {  # --model NAME; genlat.trainers.FAMILIES maps the same names to the trainer classes
    "dcgan": Model("a DCGAN, generator G against discriminator D", "genlat.trainers.gan:GANTrainer"),
    "vae": Model("a VAE whose decoder is the DCGAN generator", "genlat.trainers.vae:VAETrainer"),
}


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["MODELS", "Model", "count_parameters"]
