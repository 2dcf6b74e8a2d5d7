"""Latent usage: how many of zn's directions the generator (or the VAE's decoder) actually uses (Q1c).

At a point z the Jacobian J = dG(z)/dz, (C*H*W, zn), says how each latent direction moves the
image; its singular values s_1 >= s_2 >= ... how strongly, along orthogonal directions. Odena et
al. 2018 ("Is generator conditioning causally related to GAN performance?", arXiv 1802.08768)
study this spectrum; Wang & Ponce 2021 (arXiv 2101.06090) find that GANs use far fewer
directions than zn. Two summaries per point, each a mean over the evaluation's points:

- `dims90`: how many directions hold 90 % of the squared singular values (the image change's energy).
- `pr`: the participation ratio (sum s^2)^2 / sum s^4 (1 = one direction, zn = all equally).

J comes from forward-mode differentiation (one JVP per latent direction: zn passes, fewer than
the C*H*W passes of reverse mode) in float32 with the module in eval mode; the spectrum in float64.
For genlat's DCGAN generator (the GAN's G and the VAE's decoder) the zn tangents are pushed through
its layers by hand (`generator_jacobians`): its first layer is linear in z, so the tangents start
as that layer's weight rows, and each later layer is a convolution, an eval-mode batch norm (a
per-channel scale), ReLU or Tanh. That is torch.func's jacfwd without its per-op dispatch: about
25 % less time, no `torch._dynamo` import (vmap's batch-norm rule imports it, ≈ 1 CPU-s of the
first evaluation) and equal to jacfwd to float32 rounding (tested). Other decoders use jacfwd.
Its cost grows with points x zn, so the number of points shrinks as zn grows (`jacobian_points`):
the same cost at every zn. The price is precision at large zn: on 3-epoch shapes GANs dims90 over
32 bank points was 3.1 +- 0.8 (SD) at zn 500 and 3.4 +- 0.9 at zn 150, so zn 500's 2 points give
the run's mean within about +-0.6 (one SE); comparisons average seeds, which draw other points.
"""

from __future__ import annotations

import functools
import warnings

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn
from torch.func import jacfwd, vmap

from genlat.models.dcgan import Generator

SHARE = 0.9
# points x zn JVPs per evaluation: ~0.45 s at zn 500 on 2 CPU cores, 2 % of a default epoch (README)
DIRECTIONS = 1000
MIN_POINTS = 2
CHUNK = 1024  # JVPs per vmap call: bounds the activations' memory (64 px, ngf 64: ~1 GB)


def jacobian_points(zn: int, available: int) -> int:
    """Points to measure at: the DIRECTIONS budget over zn, at least MIN_POINTS, at most `available`."""
    return min(available, max(MIN_POINTS, DIRECTIONS // zn))


@functools.cache
def _load_jvp_decompositions() -> None:
    """Import what torch's forward-mode AD imports on its first use, with its one warning silenced.

    torch registers its forward-mode decompositions by `torch.jit.script`ing them when forward AD is
    first used (torch/autograd/forward_ad.py imports torch._decomp.decompositions_for_jvp), and that
    call warns "`torch.jit.script` is deprecated" (a FutureWarning) in every run: a warning about
    torch's own internals that no user of genlat can act on. Importing the module here first, with
    that one message of that one category ignored, keeps every other warning, including any other
    FutureWarning, where it was.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is", category=FutureWarning)
        try:
            import torch._decomp.decompositions_for_jvp  # noqa: F401
        except ImportError:  # another torch: forward AD imports what it needs itself
            pass


def jacobians(decoder, z: torch.Tensor) -> torch.Tensor:
    """(P, zn) points -> (P, D, zn): the Jacobian of decoder(z) (flattened to D values) at each point."""
    _load_jvp_decompositions()
    per_call = max(1, CHUNK // z.shape[1])
    one = lambda v: decoder(v.unsqueeze(0)).flatten()  # noqa: E731 (zn,) -> (D,)
    return torch.cat([vmap(jacfwd(one))(chunk) for chunk in z.split(per_call)])


def _tangent_rule(layer: nn.Module):
    """How a layer of the DCGAN generator maps tangents t, given its output y (None: not one of them)."""
    if isinstance(layer, nn.ConvTranspose2d):
        return lambda t, y: F.conv_transpose2d(
            t, layer.weight, None, layer.stride, layer.padding, layer.output_padding, layer.groups, layer.dilation
        )
    if isinstance(layer, nn.Conv2d):
        return lambda t, y: layer._conv_forward(t, layer.weight, None)
    if isinstance(layer, nn.BatchNorm2d) and not layer.training and layer.track_running_stats:
        scale = torch.rsqrt(layer.running_var + layer.eps)
        scale = (scale if layer.weight is None else layer.weight * scale).view(1, 1, -1, 1, 1)
        return lambda t, y: t * scale
    if isinstance(layer, nn.ReLU):
        return lambda t, y: torch.where(y > 0, t, 0.0)
    if isinstance(layer, nn.Tanh):
        return lambda t, y: t * (1 - y.square())
    return None


def generator_jacobians(g: Generator, z: torch.Tensor) -> torch.Tensor:
    """`jacobians` of a DCGAN `Generator` in eval mode, by pushing the zn tangents through its layers
    (module docstring): (P, zn) -> (P, D, zn)."""
    rules = [_tangent_rule(layer) for layer in g.net[1:]]
    if None in rules:
        raise TypeError("not a DCGAN generator's layers")
    zn = z.shape[1]
    w0 = g.net[0].weight  # (zn, C, 4, 4): the first layer's tangent along e_i is its weight row i
    out = []
    for chunk in z.split(max(1, CHUNK // zn)):
        p = len(chunk)
        y = type(g).stem(g, chunk)  # (p, C, 4, 4)
        t = w0.unsqueeze(0).expand(p, *w0.shape).reshape(p * zn, *w0.shape[1:])  # (p * zn, C, 4, 4)
        for layer, rule in zip(g.net[1:], rules):
            y = layer(y)
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                t = rule(t, y)
            else:  # elementwise: point k's output broadcast over its zn tangents
                t = rule(t.view(p, zn, *t.shape[1:]), y.unsqueeze(1)).flatten(0, 1)
        out.append(rearrange(t, "(p i) c h w -> p (c h w) i", p=p))
    return torch.cat(out)


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
            z = z.to(device)
            jac = generator_jacobians(net, z) if isinstance(net, Generator) else jacobians(_plain(net), z)
            s2 = squared_singular_values(jac.cpu())
    finally:
        net.train(was_training)
    return {
        "jacobian_dims90": float(used_dims(s2).double().mean()),
        "jacobian_pr": float(participation_ratio(s2).mean()),
    }
