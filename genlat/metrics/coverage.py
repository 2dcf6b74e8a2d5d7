"""Factor coverage (shapes only): do generated images show every shape, scale, rotation and
position as often as the data does? The data's factors are independent and uniform, so per factor
the divergence is KL(predicted || uniform) = log K - H(predicted), in nats: 0 when every class is
predicted equally often, log K when one class takes everything (a collapsed mode). A finite
sample of N exact renders still scores about (K - 1) / (2N) (the plug-in estimate's bias).

Orientation is folded to 10 classes (mod 90 degrees): a square turned by 90 degrees is the same
image, so only the angle mod 90 degrees is visible in all three shapes.
"""

from __future__ import annotations

import torch

from genlat.data.shapes import FACTOR_NAMES, FACTOR_SIZES, SHAPES

ORIENT_FOLD = 10  # 40 orientations mod 90 degrees


def kl_from_uniform(classes: torch.Tensor, k: int) -> float:
    """KL(empirical distribution of `classes` (N,) over 0..k-1 || uniform), nats."""
    p = torch.bincount(classes, minlength=k).double() / len(classes)
    nz = p[p > 0]
    return float((nz * (nz * k).log()).sum())


def factor_coverage(predicted: torch.Tensor) -> dict[str, float]:
    """predicted: (N, 5) factor classes of generated images -> coverage_kl_<factor>, their mean,
    and the share of each shape (shape_share_<name>)."""
    out = {}
    for i, (name, k) in enumerate(zip(FACTOR_NAMES, FACTOR_SIZES)):
        c = predicted[:, i]
        if name == "orientation":
            c, k = c % ORIENT_FOLD, ORIENT_FOLD
        out[f"coverage_kl_{name}"] = kl_from_uniform(c, k)
    out["coverage_kl_mean"] = sum(out.values()) / len(FACTOR_NAMES)
    shares = torch.bincount(predicted[:, 0], minlength=len(SHAPES)).double() / len(predicted)
    out.update({f"shape_share_{s}": float(v) for s, v in zip(SHAPES, shares)})
    return out
