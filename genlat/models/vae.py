"""A convolutional VAE (Kingma & Welling 2014, arXiv 1312.6114) whose decoder is the DCGAN generator.

Encoder: the DCGAN discriminator's conv stack, ending in 2*zn channels instead of one logit: the
posterior q(z|x) = N(mu, diag(exp(logvar))). Decoder: `Generator` from genlat/models/dcgan.py, the
same network (and parameter count) the GAN trains at the same zn and image size.

Likelihood: Bernoulli per pixel. Images live in [-1, 1]; the target is (x + 1) / 2 in [0, 1], and
the logits are 2·a, where a is the generator's activation before its Tanh: then the Bernoulli mean
p = sigmoid(2a) maps back to 2p - 1 = tanh(a), which is exactly what `Generator.forward` draws. So
samples, grids and every metric of the decoder see the GAN's own output path. Bernoulli suits the
(near-)binary shapes images; on grey or colour photos it is the usual, slightly misspecified,
choice (a Gaussian with a fixed variance would instead set the weight of the KL term by hand).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from genlat.models.dcgan import Generator, down_stack

LOGVAR_RANGE = (-30.0, 20.0)  # keeps exp(logvar) finite in bf16 and fp32 early in training


class Encoder(nn.Module):
    def __init__(self, zn: int, channels: int, image_size: int = 64, ndf: int = 64):
        super().__init__()
        layers, width = down_stack(channels, image_size, ndf)  # (B, C, S, S) -> (B, width, 4, 4), as D
        # (B, width, 4, 4) -> (B, 2*zn, 1, 1): mean and log-variance
        layers.append(nn.Conv2d(width, 2 * zn, 4, 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = rearrange(self.net(x), "b (two z) 1 1 -> two b z", two=2)
        return mu, logvar.clamp(*LOGVAR_RANGE)


class VAE(nn.Module):
    """One module, so DDP sees the whole forward (encoder and decoder) and syncs every gradient."""

    def __init__(self, zn: int, channels: int, image_size: int = 64, ngf: int = 64, ndf: int = 64):
        super().__init__()
        self.encoder = Encoder(zn, channels, image_size, ndf)
        self.decoder = Generator(zn, channels, image_size, ngf)

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, C, S, S) in [-1, 1], eps (B, zn) ~ N(0, I) -> mu, logvar (B, zn) and logits (B, C, S, S)."""
        mu, logvar = self.encoder(x)
        z = mu + eps.to(mu.dtype) * torch.exp(0.5 * logvar)  # the reparameterisation trick
        return mu, logvar, 2 * self.decoder.pre_tanh(z)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) summed over pixels, (B,): x in [-1, 1] is read as a probability (x + 1) / 2."""
    target = (x.float() + 1) / 2
    nll = F.binary_cross_entropy_with_logits(logits.float(), target, reduction="none")
    return rearrange(nll, "b c h w -> b (c h w)").sum(1)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) of each latent dimension, (B, zn); summed over dims it is
    the ELBO's KL term."""
    mu, logvar = mu.float(), logvar.float()
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> int:
    """Dimensions whose posterior mean varies across data: Cov_x(E_q[z|x]) > threshold (Burda et al.
    2016, "Importance Weighted Autoencoders", arXiv 1509.00519). mu: (N, zn) over a fixed set of images."""
    return int((mu.float().var(dim=0) > threshold).sum())
