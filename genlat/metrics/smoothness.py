"""How smoothly the image changes as z moves, measured in the feature space.

- Perceptual path length (Karras et al. 2019, StyleGAN, arXiv 1812.04948, sec. 3): for z0, z1 from
  the prior and t ~ U(0, 1), d = |f(G(slerp(z0, z1, t))) - f(G(slerp(z0, z1, t + eps)))|^2 / eps^2
  with eps = 1e-4; PPL is the mean of d after dropping values outside the 1st-99th percentile.
  StyleGAN measures d with LPIPS; here f is the run's feature space, so PPL is in its units.
- Step evenness of interpolation rows: for a row of T images from z_a to z_b, the T - 1 feature
  distances between neighbours d_1..d_{T-1}. `cv` is their coefficient of variation std/mean
  (0 = every step changes the image equally, a smooth morph; sqrt(T - 2) = all change in one
  step, a jump) and `peak` is max/mean (1 = even, T - 1 = one jump). Mean over rows.
- Latent norm along the path: |z_t| / E|z| under the prior, mean over the interior points. Lerp
  dips toward 0.71 mid-way (off the prior's shell); slerp stays near 1.
- Class flips (shapes only, for the claim that z morphs gradually, Q3): how often the predicted
  shape class changes between neighbouring steps of a row, mean over rows. A row between two
  different shapes needs at least 1; 1 is a gradual morph, more is jumping back and forth.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from genlat.latent import interpolation_paths, slerp

PPL_EPS = 1e-4


def perceptual_path_length(generate: Callable, features: Callable, zn: int, pairs: int, seed: int) -> float:
    g = torch.Generator().manual_seed(seed)
    z0, z1 = torch.randn(pairs, zn, generator=g), torch.randn(pairs, zn, generator=g)
    t = torch.rand(pairs, generator=g) * (1 - PPL_EPS)  # (pairs,), so t + eps <= 1
    za, zb = slerp_rows(z0, z1, t), slerp_rows(z0, z1, t + PPL_EPS)  # (pairs, zn) each
    f = features(generate(torch.cat([za, zb])))  # (2 * pairs, dim)
    d = (f[:pairs] - f[pairs:]).double().square().sum(1) / PPL_EPS**2  # (pairs,)
    lo, hi = torch.quantile(d, 0.01), torch.quantile(d, 0.99)
    kept = d[(d >= lo) & (d <= hi)]
    return float(kept.mean())


def slerp_rows(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Row i of slerp between a[i] and b[i] at its own t[i]: (B, zn), computed in float64 (eps steps need it)."""
    return slerp(a.double(), b.double(), t.double().view(-1, 1))[:, 0].float()


def prior_norm(zn: int) -> float:
    """E|z| for z ~ N(0, I_zn): sqrt(2) Gamma((zn+1)/2) / Gamma(zn/2)."""
    return math.sqrt(2) * math.exp(math.lgamma((zn + 1) / 2) - math.lgamma(zn / 2))


def class_flips(classes: torch.Tensor) -> float:
    """(rows, steps) predicted classes along each row -> mean number of changes between neighbours."""
    return float((classes[:, 1:] != classes[:, :-1]).sum(1).double().mean())


def interpolation_smoothness(
    generate: Callable,
    features: Callable,
    bank: torch.Tensor,
    steps: int,
    methods: list[str],
    classify: Callable | None = None,
    features_and_classes: Callable | None = None,
) -> dict[str, float]:
    """Rows from bank[2k] to bank[2k+1] (the panels' pairs first), per method: step evenness and z norm,
    and with `classify` (images (N, C, H, W) -> classes (N,)) the class flips. `features_and_classes`
    (images -> (features, classes)), when given, does both in one pass of the feature net."""
    n = len(bank) // 2
    out = {}
    for method in methods:
        z = interpolation_paths(bank, n, steps, method)  # (rows, steps, zn)
        images = generate(z.reshape(n * steps, -1))
        if features_and_classes is not None:
            f, classes = features_and_classes(images)
        else:
            f, classes = features(images), (classify(images) if classify is not None else None)
        f = f.reshape(n, steps, -1)
        if classes is not None:
            out[f"class_flips_{method}"] = class_flips(classes.reshape(n, steps))
        d = (f[:, 1:] - f[:, :-1]).norm(dim=-1).double()  # (rows, steps - 1)
        mean = d.mean(1).clamp_min(1e-12)
        out[f"interp_cv_{method}"] = float((d.std(1, unbiased=False) / mean).mean())
        out[f"interp_peak_{method}"] = float((d.max(1).values / mean).mean())
        out[f"interp_znorm_{method}"] = float(z[:, 1:-1].norm(dim=-1).mean() / prior_norm(z.shape[-1]))
    return out
