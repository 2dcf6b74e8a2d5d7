"""Quality and diversity of generated images, measured in a feature space.

- Fréchet distance (Heusel et al. 2017) and KID, the unbiased polynomial-kernel MMD with its std
  over subsets (Bińkowski et al. 2018): torchmetrics' FID/KID, fed features we computed once (so
  the same features also serve precision/recall and the real statistics are kept all run).
- Precision and recall from k-NN manifolds (Kynkäänniemi et al. 2019, arXiv 1904.06991, k = 3):
  precision = share of generated samples inside some real sample's k-NN ball (quality), recall =
  share of real samples inside some generated sample's ball (diversity; a collapsed G scores ~0).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

K_NEAREST = 3


class _Given(nn.Module):
    """Features in, features out: torchmetrics runs its 'feature extractor' on what we pass."""

    def __init__(self, dim: int):
        super().__init__()
        self.num_features = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def knn_radii(feats: torch.Tensor, k: int = K_NEAREST) -> torch.Tensor:
    """Distance from each sample to its k-th nearest other sample: (N,)."""
    d = torch.cdist(feats, feats)  # (N, N)
    return d.kthvalue(k + 1, dim=1).values  # the 0th nearest is the sample itself


def manifold_share(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> float:
    """Share of `points` inside at least one ball (centres[j], radii[j])."""
    inside = torch.cdist(points, centres) <= radii.view(1, -1)  # (N, M)
    return inside.any(dim=1).float().mean().item()


class QualityMetrics:
    """Built once per run from the real features; called with each evaluation's fake features."""

    def __init__(self, real: torch.Tensor, kid_subsets: int = 20, kid_subset_size: int = 500, seed: int = 0):
        self.real, self.seed = real.double(), seed
        dim = real.shape[1]
        # sync_on_compute=False: only the main process evaluates; a gather across ranks would hang
        self.fd = FrechetInceptionDistance(feature=_Given(dim), reset_real_features=False, sync_on_compute=False)
        self.fd.update(self.real, real=True)
        self.kid_subsets, self.kid_subset_size = kid_subsets, kid_subset_size
        self.kid = None
        self.real_radii = knn_radii(self.real)  # float64: ball membership must not flip with the thread count

    def __call__(self, fake: torch.Tensor) -> dict[str, float]:
        fake64 = fake.double()
        self.fd.reset()
        self.fd.update(fake64, real=False)
        out = {"fd": float(self.fd.compute())}
        n = min(len(self.real) // 2, len(fake) // 2, self.kid_subset_size)  # subsets must differ, or std = 0
        if self.kid is None or self.kid.subset_size != n:
            with warnings.catch_warnings():  # "will save all extracted features": ours are small
                warnings.simplefilter("ignore")
                self.kid = KernelInceptionDistance(feature=_Given(self.real.shape[1]), subsets=self.kid_subsets,
                                                   subset_size=n, reset_real_features=False,
                                                   sync_on_compute=False)
            self.kid.update(self.real, real=True)
        self.kid.reset()
        self.kid.update(fake64, real=False)
        with torch.random.fork_rng():  # KID draws its subsets from the global generator
            torch.manual_seed(self.seed)
            kid, kid_std = self.kid.compute()
        out["kid"], out["kid_std"] = float(kid), float(kid_std)
        out["precision"] = manifold_share(fake64, self.real, self.real_radii)
        out["recall"] = manifold_share(self.real, fake64, knn_radii(fake64))
        return out
