"""When a run is beyond saving: non-finite losses, or total mode collapse of the generator.

Collapse is measured on the fixed latent bank, so it needs nothing but the generator's samples and
works for any model family: the bank's *spread* is the mean pairwise L2 distance between its samples,
divided by the same quantity for as many real images. Real data scores 1; a generator that maps every
z to the same image scores 0. Once a run's spread has reached `--collapse_spread`, a fall below it for
`--collapse_epochs` consecutive epochs ends the run as diverged.

Why this rule and these defaults (0.03, 3 epochs): it fires only on *total* collapse after the
generator had produced diverse images, which a GAN does not recover from without intervention (D wins,
G's gradients vanish), so stopping saves the rest of the run and the sweep moves on. Measured here on
the plain DCGAN (no stabilisers, ngf 64, zn 50-500, 4 epochs of 1,920 images, seed 0), which learns
slowly on the shapes: 0.006-0.02 untrained and 0.13-0.54 after each of epochs 1-4, a generator whose
output no longer depends on z scores 0.000, and the tests' tiny nets (4 steps per epoch) stay near
0.0003. A generator that has not yet reached the threshold is slow, not collapsed, so the rule waits
until it has (it misses a collapse in the very first epochs: conservative by design); several epochs in
a row keep one bad epoch from ending a run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


def spread(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance between (N, ...) images, N >= 2."""
    flat = images.detach().flatten(1).double().cpu()
    return torch.pdist(flat).mean().item()


def nonfinite(losses: dict[str, float]) -> str | None:
    """The reason a run with these epoch losses has diverged, or None when they are all finite."""
    bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
    return ("non-finite loss: " + ", ".join(f"{k}={v}" for k, v in bad.items())) if bad else None


class CollapseWatch:
    """Counts consecutive epochs whose bank spread is below the threshold; `update` says when to stop."""

    def __init__(self, real_spread: float, min_spread: float, epochs: int, history: Iterable[float | None] = ()):
        self.real_spread, self.min_spread, self.epochs = real_spread, min_spread, epochs
        self.armed = False  # has the bank ever been as diverse as the threshold?
        self.low = 0  # consecutive epochs below it since; `history` (earlier epochs) carries both over a resume
        for ratio in history:
            self._count(ratio)

    def _count(self, ratio: float | None) -> None:
        if ratio is None:
            return
        if ratio >= self.min_spread:
            self.armed, self.low = True, 0
        elif self.armed:
            self.low += 1

    def ratio(self, bank_images: torch.Tensor) -> float:
        """The bank's spread relative to the real data's (~1 for real images, 0 for one image repeated)."""
        return spread(bank_images) / max(self.real_spread, 1e-12)

    def update(self, ratio: float) -> str | None:
        self._count(ratio)
        if self.min_spread > 0 and self.low >= self.epochs:
            return (
                f"mode collapse: the latent bank's samples are near-identical (spread {ratio:.3g} of the real "
                f"data's, below --collapse_spread={self.min_spread:g}) for {self.low} epoch(s)"
            )
        return None
