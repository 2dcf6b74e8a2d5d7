"""Differences between settings, called only beyond seed noise: the mean difference over seeds with a
95 % t-interval (on seed-paired differences when both settings ran the same seeds, Welch's otherwise),
and in how many seeds the order holds. Pure functions of numbers; no report types."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from scipy.stats import t as student_t

LEVEL = 0.95
RULE = ("A difference between two settings is called only when its 95 % interval over seeds excludes zero: a "
        "t-interval on the seed-paired differences when both settings ran the same seeds (paired), Welch's "
        "t-interval otherwise (Welch); 'k/n seeds' counts the seeds (for Welch, the seed pairs) in which the order "
        "holds. With one seed per setting nothing can be called.")  # fmt: skip


@dataclass(frozen=True)
class Diff:
    """a − b over seeds."""

    mean: float
    lo: float
    hi: float
    method: str  # "paired" or "Welch"
    holds: int  # seeds (paired) or seed pairs (Welch) whose order matches the mean's sign
    of: int

    @property
    def called(self) -> bool:
        return self.lo > 0 or self.hi < 0


def _quantile(df: float) -> float:
    return float(student_t.ppf(0.5 + LEVEL / 2, df))


def mean_interval(values: list[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95 % t-interval (None with one value)."""
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, None
    return m, _quantile(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def compare(a: dict, b: dict) -> Diff | None:
    """a, b: seed -> final value. None when the seeds cannot carry an interval (fewer than 2 each)."""
    if set(a) == set(b) and len(a) >= 2:
        d = [a[s] - b[s] for s in a]
        m, half = mean_interval(d)
        return Diff(m, m - half, m + half, "paired", sum(_sign(x) == _sign(m) != 0 for x in d), len(d))
    xa, xb = list(a.values()), list(b.values())
    if len(xa) < 2 or len(xb) < 2:
        return None
    va, vb = statistics.variance(xa) / len(xa), statistics.variance(xb) / len(xb)
    m = statistics.fmean(xa) - statistics.fmean(xb)
    se = math.sqrt(va + vb)
    half = 0.0 if se == 0 else _quantile((va + vb) ** 2 / (va**2 / (len(xa) - 1) + vb**2 / (len(xb) - 1))) * se
    holds = sum(_sign(x - y) == _sign(m) != 0 for x in xa for y in xb)
    return Diff(m, m - half, m + half, "Welch", holds, len(xa) * len(xb))


def called(by_setting: dict[str, dict]) -> list[tuple[str, str, Diff]]:
    """Every called difference as (lower setting, higher setting, lower − higher), settings in the given order."""
    labels = list(by_setting)
    out = []
    for i, x in enumerate(labels):
        for y in labels[i + 1 :]:
            d = compare(by_setting[x], by_setting[y])
            if d is not None and d.called:
                out.append((x, y, d) if d.mean < 0 else (y, x, Diff(-d.mean, -d.hi, -d.lo, d.method, d.holds, d.of)))
    return out


def can_call(by_setting: dict[str, dict]) -> bool:
    """Whether any pair of settings has the seeds for an interval."""
    labels = list(by_setting)
    return any(compare(by_setting[x], by_setting[y]) is not None for i, x in enumerate(labels) for y in labels[i + 1 :])
