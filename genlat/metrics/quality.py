"""Quality and diversity of generated images, measured in a feature space.

- Fréchet distance (Heusel et al. 2017) and KID, the unbiased polynomial-kernel MMD with its std
  over subsets (Bińkowski et al. 2018), on features we computed once (so the same features also
  serve precision/recall and the real statistics are kept all run). The arithmetic is torchmetrics'
  FID/KID, operation for operation in float64 (tests/test_metrics.py checks equality); importing
  torchmetrics (and with it torchvision and scipy) cost each run ≈ 2 CPU-s of start-up.
- Precision and recall from k-NN manifolds (Kynkäänniemi et al. 2019, arXiv 1904.06991, k = 3):
  precision = share of generated samples inside some real sample's k-NN ball (quality), recall =
  share of real samples inside some generated sample's ball (diversity; a collapsed G scores ~0).
"""

from __future__ import annotations

import torch

K_NEAREST = 3


def mean_cov(feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and unbiased covariance (D, D) of float64 features (N, D), as torchmetrics' FID sums them."""
    n = feats.shape[0]
    mean = (feats.sum(dim=0) / n).unsqueeze(0)
    cov = (feats.t().mm(feats) - n * mean.t().mm(mean)) / (n - 1)
    return mean.squeeze(0), cov


def frechet_distance(mu1, sigma1, mu2, sigma2) -> torch.Tensor:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2); the trace of the root from S1 S2's eigenvalues."""
    a = (mu1 - mu2).square().sum(dim=-1)
    b = sigma1.trace() + sigma2.trace()
    c = torch.linalg.eigvals(sigma1 @ sigma2).sqrt().real.sum(dim=-1)
    return a + b - 2 * c


def poly_mmd(f_real: torch.Tensor, f_fake: torch.Tensor, degree: int = 3, coef: float = 1.0) -> torch.Tensor:
    """Unbiased MMD^2 with the kernel (x.y / D + coef)^degree (KID's)."""
    gamma = 1.0 / f_real.shape[1]
    k_xx, k_yy, k_xy = (
        (x @ y.T * gamma + coef) ** degree for x, y in ((f_real, f_real), (f_fake, f_fake), (f_real, f_fake))
    )
    m = k_xx.shape[0]
    kt_xx_sum = (k_xx.sum(dim=-1) - torch.diag(k_xx)).sum()
    kt_yy_sum = (k_yy.sum(dim=-1) - torch.diag(k_yy)).sum()
    value = (kt_xx_sum + kt_yy_sum) / (m * (m - 1))
    return value - 2 * k_xy.sum(dim=0).sum() / (m**2)


def kernel_distance(real: torch.Tensor, fake: torch.Tensor, subsets: int, size: int) -> tuple[float, float]:
    """KID's mean and (population) std over `subsets` random subsets of `size`, drawn from the global generator."""
    scores = []
    for _ in range(subsets):
        r = real[torch.randperm(real.shape[0])[:size]]
        f = fake[torch.randperm(fake.shape[0])[:size]]
        scores.append(poly_mmd(r, f))
    scores = torch.stack(scores)
    return float(scores.mean()), float(scores.std(unbiased=False))


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
        self.real_stats = mean_cov(self.real)
        self.kid_subsets, self.kid_subset_size = kid_subsets, kid_subset_size
        self.real_radii = knn_radii(self.real)  # float64: ball membership must not flip with the thread count

    def __call__(self, fake: torch.Tensor) -> dict[str, float]:
        fake64 = fake.double()
        out = {"fd": float(frechet_distance(*self.real_stats, *mean_cov(fake64)))}
        n = min(len(self.real) // 2, len(fake) // 2, self.kid_subset_size)  # subsets must differ, or std = 0
        with torch.random.fork_rng():  # the subsets come from the global generator, seeded: the same every epoch
            torch.manual_seed(self.seed)
            out["kid"], out["kid_std"] = kernel_distance(self.real, fake64, self.kid_subsets, n)
        out["precision"] = manifold_share(fake64, self.real, self.real_radii)
        out["recall"] = manifold_share(self.real, fake64, knn_radii(fake64))
        return out
