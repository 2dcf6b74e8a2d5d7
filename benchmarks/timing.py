"""Interleaved timing: blocks of A, B, A, B, ... after a warm-up block of each, so that drift on a
shared machine (other processes, clocks, caches) hits both sides alike; medians and spread."""

from __future__ import annotations

import statistics
from typing import Callable

Runner = Callable[[int], tuple[int, float]]  # steps -> (images, seconds)


def summarize(values: list[float]) -> dict:
    """Median, min, max and the spread (max - min) / median of a list of rates or ratios."""
    med = statistics.median(values)
    return {"median": med, "min": min(values), "max": max(values),
            "spread": (max(values) - min(values)) / med if med else float("nan"), "n": len(values),
            "values": [round(v, 4) for v in values]}


def interleave(runners: dict[str, Runner], steps: int, repeats: int, warmup_steps: int,
               on_block: Callable[[str, int, float], None] = lambda name, rep, rate: None) -> dict[str, list[float]]:
    """images/s of each runner in `repeats` blocks of `steps` steps, taken in turns."""
    for run in runners.values():
        run(warmup_steps)  # first calls: allocator, kernels picked, lazy imports, W&B's first log
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for rep in range(repeats):
        order = list(runners) if rep % 2 == 0 else list(reversed(runners))  # A B, B A, ...: no side always goes first
        for name in order:
            images, seconds = runners[name](steps)
            rates[name].append(images / seconds)
            on_block(name, rep, rates[name][-1])
    return rates


def paired_ratios(a: list[float], b: list[float]) -> list[float]:
    """a[i] / b[i] of the blocks run next to each other: drift between repeats cancels."""
    return [x / y for x, y in zip(a, b)]
