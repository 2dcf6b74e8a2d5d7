"""Latent usage: how many of zn's directions the generator (or the VAE's decoder) actually uses (Q1c).

At a point z the Jacobian J = dG(z)/dz, (C*H*W, zn), says how each latent direction moves the
image; its singular values s_1 >= s_2 >= ... how strongly, along orthogonal directions. Odena et
al. 2018 ("Is generator conditioning causally related to GAN performance?", arXiv 1802.08768)
study this spectrum; Wang & Ponce 2021 (arXiv 2101.06090) find that GANs use far fewer
directions than zn. Two summaries per point, each a mean over the evaluation's points:

- `dims90`: how many directions hold 90 % of the squared singular values (the image change's energy).
- `pr`: the participation ratio (sum s^2)^2 / sum s^4 (1 = one direction, zn = all equally).

J comes from forward-mode autodiff (one JVP per latent direction: zn passes, fewer than the
C*H*W passes of reverse mode) in float32 with the module in eval mode; the spectrum in float64.
Its cost grows with points x zn, so the number of points shrinks as zn grows (`jacobian_points`):
the same cost at every zn. The price is precision at large zn: on 3-epoch shapes GANs dims90 over
32 bank points was 3.1 +- 0.8 (SD) at zn 500 and 3.4 +- 0.9 at zn 150, so zn 500's 2 points give
the run's mean within about +-0.6 (one SE); comparisons average seeds, which draw other points.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import jacfwd, vmap

SHARE = 0.9
# points x zn JVPs per evaluation: ~0.45 s at zn 500 on 2 CPU cores, 2 % of a default epoch (README)
DIRECTIONS = 1000
MIN_POINTS = 2
CHUNK = 1024  # JVPs per vmap call: bounds the activations' memory (64 px, ngf 64: ~1 GB)


def jacobian_points(zn: int, available: int) -> int:
    """Points to measure at: the DIRECTIONS budget over zn, at least MIN_POINTS, at most `available`."""
    return min(available, max(MIN_POINTS, DIRECTIONS // zn))


def jacobians(decoder, z: torch.Tensor) -> torch.Tensor:
    """(P, zn) points -> (P, D, zn): the Jacobian of decoder(z) (flattened to D values) at each point."""
    per_call = max(1, CHUNK // z.shape[1])
    one = lambda v: decoder(v.unsqueeze(0)).flatten()  # noqa: E731 (zn,) -> (D,)
    return torch.cat([vmap(jacfwd(one))(chunk) for chunk in z.split(per_call)])


def squared_singular_values(jac: torch.Tensor) -> torch.Tensor:
    """(P, D, zn) -> (P, min(D, zn)) float64, largest first."""
    return torch.linalg.svdvals(jac.double()).square()


def used_dims(s2: torch.Tensor, share: float = SHARE) -> torch.Tensor:
    """(P, k) squared singular values, largest first -> (P,): fewest directions holding `share` of the sum."""
    cum = s2.cumsum(1)
    return (cum < share * cum[:, -1:]).sum(1) + 1


def participation_ratio(s2: torch.Tensor) -> torch.Tensor:
    """(P, k) squared singular values -> (P,) (sum s^2)^2 / sum s^4."""
    return s2.sum(1).square() / s2.square().sum(1).clamp_min(1e-300)


def _plain(net: nn.Module):
    """The module's own forward in float32: Accelerate's mixed precision patches `net.forward` on
    the instance with autocast, and bf16 would blur the small singular values."""
    forward = type(net).forward
    return lambda z: forward(net, z.float())


def latent_usage(net: nn.Module, z: torch.Tensor) -> dict[str, float]:
    """{"jacobian_dims90", "jacobian_pr"} of `net` (z (B, zn) -> images) at the points z, in eval mode."""
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        # Forward mode needs no autograd graph (no_grad keeps one from being built through the weights).
        with torch.no_grad(), torch.autocast(device.type, enabled=False):
            s2 = squared_singular_values(jacobians(_plain(net), z.to(device)).cpu())
    finally:
        net.train(was_training)
    return {"jacobian_dims90": float(used_dims(s2).double().mean()),
            "jacobian_pr": float(participation_ratio(s2).mean())}
