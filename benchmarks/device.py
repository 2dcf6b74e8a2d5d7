"""FLOPs of one step (torch.utils.flop_counter), the device's bf16 peak where known, and peak memory."""

from __future__ import annotations

import resource
import sys

import torch
from torch.utils.flop_counter import FlopCounterMode

# Dense bf16 tensor-core peaks in FLOP/s, from NVIDIA's datasheets (their "with sparsity" figure
# halved). Matched as substrings of torch.cuda.get_device_name(), most specific first.
BF16_DENSE_PEAK = (
    ("H200", 989e12),  # H200 SXM; the NVL (PCIe) part is lower, ~836e12
    ("H100 PCIe", 756e12),
    ("H100", 989e12),  # SXM5
    ("A100", 312e12),
    ("L40S", 362e12),
    ("L4", 121e12),
    ("A10", 125e12),
)


def bf16_peak(device: torch.device) -> tuple[str, float | None]:
    """(device name, its dense bf16 peak or None when the device is not a known GPU)."""
    if device.type != "cuda":
        return "cpu", None
    name = torch.cuda.get_device_name(device)
    for key, peak in BF16_DENSE_PEAK:
        if key in name:
            return name, peak
    return name, None


def step_flops(step) -> int:
    """FLOPs of calling `step()` once (matmuls and convolutions, forward and backward)."""
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return counter.get_total_flops()


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_bytes(device: torch.device) -> int:
    """CUDA: the allocator's peak since the last reset. CPU: the whole process's peak RSS."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB
