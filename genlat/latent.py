"""The fixed latent bank and interpolation between latent vectors.

The bank is drawn from the seed alone on the CPU (same numbers on every device and rank), so every
epoch of a run, and every run with the same zn and seed, renders the same z.

Linear interpolation between two Gaussian z leaves the prior's shell: the midpoint's norm is about
0.71x a typical sample's, and the gap grows with zn, so lerp panels would confound the zn
comparison. Spherical interpolation keeps the norm (White 2016, "Sampling Generative Networks",
arXiv 1609.04468), so slerp is the default and lerp is kept for the comparison.
"""

from __future__ import annotations

import torch

BANK_SEED_OFFSET = 7919  # the bank's stream differs from the weight-init stream of the same seed


def latent_bank(zn: int, n: int, seed: int) -> torch.Tensor:
    """(n, zn) standard-normal vectors, a pure function of (zn, n, seed); a prefix of a larger bank."""
    g = torch.Generator().manual_seed(seed + BANK_SEED_OFFSET)
    return torch.randn(n, zn, generator=g)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """a, b: (..., zn); t: (T,) -> (..., T, zn). A t of shape (B, 1) gives row i its own t[i]: (B, 1, zn)."""
    t = t.unsqueeze(-1)
    return a.unsqueeze(-2) * (1 - t) + b.unsqueeze(-2) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation, shapes as `lerp`; falls back to lerp where a and b are (nearly) parallel."""
    a_n = a / a.norm(dim=-1, keepdim=True).clamp_min(eps)
    b_n = b / b.norm(dim=-1, keepdim=True).clamp_min(eps)
    omega = torch.acos((a_n * b_n).sum(-1).clamp(-1 + eps, 1 - eps)).unsqueeze(-1).unsqueeze(-1)  # (..., 1, 1)
    so = torch.sin(omega)
    tt = t.unsqueeze(-1)
    wa, wb = torch.sin((1 - tt) * omega) / so, torch.sin(tt * omega) / so
    out = wa * a.unsqueeze(-2) + wb * b.unsqueeze(-2)
    return torch.where(so.abs() < 1e-4, lerp(a, b, t), out)


INTERPOLATORS = {"slerp": slerp, "lerp": lerp}


def bank_pairs(bank: torch.Tensor, pairs: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The endpoints of interpolation pair k are bank[2k] and bank[2k+1]: (pairs, zn) each, all
    whole pairs by default. Panels, their evenness and the VAE's real-image walks all pair this way."""
    pairs = len(bank) // 2 if pairs is None else pairs
    return bank[0 : 2 * pairs : 2], bank[1 : 2 * pairs : 2]


def interpolation_paths(bank: torch.Tensor, pairs: int | None, steps: int, method: str) -> torch.Tensor:
    """Pair k runs from bank[2k] to bank[2k+1]: returns (pairs, steps, zn), endpoints included."""
    a, b = bank_pairs(bank, pairs)
    t = torch.linspace(0, 1, steps, dtype=bank.dtype)
    return INTERPOLATORS[method](a, b, t)
