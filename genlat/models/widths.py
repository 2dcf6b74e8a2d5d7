"""The DCGAN networks' layers without torch: dcgan.py builds G and D (and the VAE's encoder) from
them and the config's memory estimate counts them, so the two cannot disagree."""

from __future__ import annotations

IMAGE_SIZES = (32, 64)  # the sides the networks are built for


def _mults(image_size: int) -> list[int]:
    assert image_size in IMAGE_SIZES, image_size
    return [1, 2, 4, 8] if image_size == 64 else [1, 2, 4]


def generator_layers(image_size: int, ngf: int) -> list[tuple[int, int]]:
    """G's hidden layers as (channels, side), from the 4x4 stem up, each doubling the side:
    64 px -> 8,4,2,1 x ngf at 4, 8, 16, 32 px; 32 px -> 4,2,1 x ngf at 4, 8, 16 px. A last transposed
    conv maps ngf channels to the image's."""
    return [(ngf * m, 4 << i) for i, m in enumerate(reversed(_mults(image_size)))]


def discriminator_layers(image_size: int, ndf: int) -> list[tuple[int, int]]:
    """D's strided convs (the VAE's encoder too) as (channels, side), each halving the side:
    64 px -> 1,2,4,8 x ndf at 32, 16, 8, 4 px; 32 px -> 1,2,4 x ndf at 16, 8, 4 px. A last 4x4 conv maps
    the widest to one logit (the encoder: to 2*zn)."""
    return [(ndf * m, image_size >> (j + 1)) for j, m in enumerate(_mults(image_size))]
