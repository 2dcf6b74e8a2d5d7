"""Detail, for the study's claim that a larger zn gives finer detail (Q1a), on any dataset.

The power spectrum of the images (Durall et al. 2020, "Watch your up-convolution", arXiv
2003.01826, read it radially averaged): the share of the spectral energy above half the Nyquist
frequency (radius > 0.25 cycles per pixel), generated over real. 1 = as much fine structure as the
real data, < 1 blurrier, > 1 more high-frequency energy than the data (noise, checkerboard
artefacts of transposed convolutions). Each image's mean is removed first (the DC term says
nothing about detail), channels are averaged, and the share is taken of the set's summed spectrum,
so a few near-blank images do not dominate.
"""

from __future__ import annotations

import torch

HIGH = 0.25  # cycles per pixel: half the Nyquist frequency


def high_frequency_share(images: torch.Tensor, batch: int = 500) -> float:
    """(N, C, H, W) -> share of the (mean-removed) spectral energy at radius > HIGH cycles/pixel."""
    h, w = images.shape[-2:]
    fy, fx = torch.fft.fftfreq(h).view(-1, 1), torch.fft.fftfreq(w).view(1, -1)
    high = ((fy**2 + fx**2).sqrt() > HIGH).to(images.device)  # (H, W)
    power = torch.zeros(h, w, dtype=torch.float64, device=images.device)
    for chunk in images.split(batch):
        x = chunk.double().mean(1)  # (B, H, W)
        x = x - x.mean(dim=(1, 2), keepdim=True)
        power += torch.fft.fft2(x).abs().square().sum(0)
    return float(power[high].sum() / power.sum().clamp_min(1e-30))


def detail_ratio(fake: torch.Tensor, real_share: float) -> float:
    """The generated images' high-frequency share over the real images' (`high_frequency_share`)."""
    return high_frequency_share(fake) / max(real_share, 1e-12)
