"""DCGAN generator and discriminator (Radford et al. 2016, arXiv 1511.06434) for 32x32 and 64x64.

Layout follows pytorch/examples dcgan: transposed convs with BatchNorm+ReLU in G, strided convs
with LeakyReLU(0.2) in D, no BatchNorm on D's first layer, weights from N(0, 0.02). D returns
logits (BCEWithLogits is safe under autocast; Sigmoid+BCELoss is not).
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

from genlat.models.widths import discriminator_layers, generator_layers


def _up(cin: int, cout: int) -> list[nn.Module]:  # doubles H and W
    return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]


def _down(cin: int, cout: int, norm: bool = True) -> list[nn.Module]:  # halves H and W
    layers = [nn.Conv2d(cin, cout, 4, 2, 1, bias=False)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    return layers + [nn.LeakyReLU(0.2, inplace=True)]


class Generator(nn.Module):
    def __init__(self, zn: int, channels: int, image_size: int = 64, ngf: int = 64):
        super().__init__()
        self.zn = zn
        # widths from the 4x4 stem up: 64 px -> 8,4,2,1 x ngf; 32 px -> 4,2,1 x ngf
        widths = [w for w, _ in generator_layers(image_size, ngf)]
        layers = [  # (B, zn, 1, 1) -> (B, widths[0], 4, 4)
            nn.ConvTranspose2d(zn, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for a, b in zip(widths, widths[1:]):  # 4 -> 8 -> 16 (-> 32)
            layers += _up(a, b)
        # (B, ngf, S/2, S/2) -> (B, channels, S, S) in [-1, 1]
        layers += [nn.ConvTranspose2d(ngf, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net[1:](self.stem(z))

    def pre_tanh(self, z: torch.Tensor) -> torch.Tensor:
        """The activation before the final Tanh, (B, channels, S, S): a VAE reads it as logits."""
        return self.net[1:-1](self.stem(z))

    def stem(self, z: torch.Tensor) -> torch.Tensor:
        """The first layer, net[0] (its weights, its state_dict key), on z (B, zn) -> (B, C, 4, 4).

        A transposed convolution of a 1x1 input is a matrix product, z @ W. Computed as one it took a
        third of the time of oneDNN's transposed convolution (forward and backward, batch 64, this
        CPU), and it gives the same bits in channels-last (the CPU default; both W's gradient and the
        output tested equal), where the product's columns are W's (4, 4, C) order and the result is
        a channels-last view."""
        w = self.net[0].weight  # (zn, C, 4, 4)
        if w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous():
            return rearrange(z @ rearrange(w, "z c h w -> z (h w c)"), "b (h w c) -> b c h w", h=4, w=4)
        return rearrange(z @ rearrange(w, "z c h w -> z (c h w)"), "b (c h w) -> b c h w", h=4, w=4)


def down_stack(channels: int, image_size: int, ndf: int) -> tuple[list[nn.Module], int]:
    """D's strided convs, (B, channels, S, S) -> (B, width, 4, 4); returns (layers, width).
    The VAE's encoder is the same stack."""
    widths = [w for w, _ in discriminator_layers(image_size, ndf)]  # 64 px -> 1,2,4,8 x ndf; 32 px -> 1,2,4
    # (B, channels, S, S) -> (B, ndf, S/2, S/2)
    layers = _down(channels, widths[0], norm=False)
    for a, b in zip(widths, widths[1:]):  # S/2 -> ... -> 4x4
        layers += _down(a, b)
    return layers, widths[-1]


class Discriminator(nn.Module):
    def __init__(self, channels: int, image_size: int = 64, ndf: int = 64):
        super().__init__()
        layers, width = down_stack(channels, image_size, ndf)
        # (B, width, 4, 4) -> (B, 1, 1, 1)
        layers.append(nn.Conv2d(width, 1, 4, 1, 0, bias=False))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rearrange(self.net(x), "b 1 1 1 -> b")  # logits


def dcgan_init(module: nn.Module) -> None:
    """N(0, 0.02) for convs, N(1, 0.02) scale and 0 shift for BatchNorm (the DCGAN paper's init)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
