"""Interleaved timing: blocks of A, B, A, B, ... after a warm-up block of each, so that drift on a
shared machine (other processes, clocks, caches) hits both sides alike; medians and spread."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

Runner = Callable[[int], tuple[int, float]]  # steps -> (images, seconds)


def summarize(values: list[float]) -> dict:
    """Median, min, max and the spread (max - min) / median of a list of rates or ratios."""
    med = statistics.median(values)
    return {
        "median": med,
        "min": min(values),
        "max": max(values),
        "spread": (max(values) - min(values)) / med if med else float("nan"),
        "n": len(values),
        "values": [round(v, 4) for v in values],
    }


def interleave(
    runners: dict[str, Runner],
    steps: int,
    repeats: int,
    warmup_steps: int,
    on_block: Callable[[str, int, float], None] = lambda name, rep, rate: None,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """images/s of each runner in `repeats` blocks of `steps` steps, taken in turns: per wall-clock
    second, and per CPU second of this process (what the work costs, whoever else shares the CPU)."""
    for run in runners.values():
        run(warmup_steps)  # first calls: allocator, kernels picked, lazy imports, W&B's first log
    rates: dict[str, list[float]] = {name: [] for name in runners}
    cpu_rates: dict[str, list[float]] = {name: [] for name in runners}
    for rep in range(repeats):
        order = list(runners) if rep % 2 == 0 else list(reversed(runners))  # A B, B A, ...: no side always goes first
        for name in order:
            cpu0 = time.process_time()
            images, seconds = runners[name](steps)
            rates[name].append(images / seconds)
            cpu_rates[name].append(images / max(time.process_time() - cpu0, 1e-9))
            on_block(name, rep, rates[name][-1])
    return rates, cpu_rates


def paired_ratios(a: list[float], b: list[float]) -> list[float]:
    """a[i] / b[i] of the blocks run next to each other: drift between repeats cancels."""
    return [x / y for x, y in zip(a, b)]
