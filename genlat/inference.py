"""A network applied to many inputs for measuring, not training: eval mode, no autograd, a batch at
a time (bounded memory), results on the CPU. Sampling, encoding and feature extraction share it."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


@torch.no_grad()
def eval_batches(
    net: nn.Module, x: torch.Tensor, batch: int, device: torch.device | str, fn: Callable | None = None
) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """fn(chunk) (default: net(chunk)) for every `batch` rows of x moved to `device`, with `net` in
    eval mode and its training flag restored afterwards; the outputs on the CPU (float32, or float64 if so),
    concatenated (a tuple output is concatenated element by element)."""
    fn = fn or net
    was_training = net.training
    net.eval()
    try:
        outs = [_cpu(fn(chunk.to(device))) for chunk in x.split(batch)]
    finally:
        net.train(was_training)
    if isinstance(outs[0], tuple):
        return tuple(torch.cat(parts) for parts in zip(*outs))
    return torch.cat(outs)


def _cpu(y):
    return tuple(_up(v) for v in y) if isinstance(y, tuple) else _up(y)


def _up(v: torch.Tensor) -> torch.Tensor:
    """On the CPU, bf16/fp16 widened to float32; float64 (exact evaluation) stays float64."""
    return v.cpu() if v.dtype == torch.float64 else v.float().cpu()
