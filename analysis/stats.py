"""The report's statistics, pure functions of numbers (no report types): a mean and its 95 %
t-interval over seeds; the difference between two settings over seeds (a t-interval on the
seed-paired differences when both ran the same seeds, Welch's otherwise), which differences are
called and the sentences that say so; and the verdicts on the study's claims from seed tables
(setting label -> {seed: value}). Each rule is quoted in the report next to what it decided."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from scipy.stats import t as student_t

from analysis.text import fmt

LEVEL = 0.95
PAIRWISE_RULE = ("A difference between two settings is called only when its 95 % interval over seeds excludes zero: a "
                 "t-interval on the seed-paired differences when both settings ran the same seeds (paired), Welch's "
                 "t-interval otherwise (Welch); 'k/n seeds' counts the seeds (for Welch, the seed pairs) in which the "
                 "order holds. With one seed per setting nothing can be called.")  # fmt: skip
SUPPORTED, CONTRADICTED, UNRESOLVED, UNMEASURABLE = "supported", "contradicted", "not resolved", "not measurable"
VERDICT_RULE = ("Verdicts come from the numbers: a comparison between settings is decided only when its 95 % interval "
                "over seeds excludes zero (the pairwise rule below); a claim about a level (at most one shape change "
                "per path; the plateau by epoch 4) is decided only when every setting's 95 % interval lies on one side "
                "of it. Supported: decided the claimed way; contradicted: decided the other way; not resolved: not "
                "decided (intervals include zero or the level, or one seed per setting); not measurable: the measure "
                "was not logged (e.g. a shapes-only measure on another dataset) or the study lacks what the claim "
                "needs.")  # fmt: skip


# --- one setting's values ------------------------------------------------------------------------
def finite(values) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]


def mean_spread(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (None with one value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def describe(values: list[float]) -> str:
    """'mean ± standard deviation (n=…)', or the value alone."""
    m, s = mean_spread(values)
    return fmt(m) if s is None else f"{fmt(m)} ± {fmt(s)} (n={len(values)})"


def _quantile(df: float) -> float:
    return float(student_t.ppf(0.5 + LEVEL / 2, df))


def mean_interval(values: list[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95 % t-interval (None with one value)."""
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, None
    return m, _quantile(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))


def interval_text(values: dict) -> str:
    """values: seed -> value. 'mean ± half-width of the 95 % interval (n=…)', or the value alone."""
    m, half = mean_interval(list(values.values()))
    return fmt(m) if half is None else f"{fmt(m)} ± {half:.2g} (n={len(values)})"


def _span(values: dict) -> tuple[float, float] | None:
    m, half = mean_interval(list(values.values()))
    return None if half is None else (m - half, m + half)


# --- two settings ---------------------------------------------------------------------------------
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

    def __str__(self) -> str:
        """'mean [lo, hi]': the difference with its 95 % interval."""
        return f"{fmt(self.mean)} [{fmt(self.lo)}, {fmt(self.hi)}]"


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


def called_sentences(name: str, by_setting: dict[str, dict]) -> list[str]:
    """name: the metric's human name. One sentence per setting that is called lower than another,
    every called difference with its interval."""
    by_lower: dict[str, list] = {}
    for lower, higher, d in called(by_setting):
        by_lower.setdefault(lower, []).append((higher, d))
    out = []
    for lower, rows in by_lower.items():
        others = ", ".join(h for h, _ in rows)
        holds = {f"{d.holds}/{d.of}" for _, d in rows}
        unit = "seed pairs" if all(d.method == "Welch" for _, d in rows) else "seeds"
        seeds = f"in {holds.pop()} {unit}" + (" each" if len(rows) > 1 else "") if len(holds) == 1 else \
            "in " + ", ".join(f"{d.holds}/{d.of}" for _, d in rows) + f" {unit}"  # fmt: skip
        methods = "/".join(sorted({d.method for _, d in rows}))
        diffs = "; ".join(str(d) for _, d in rows)
        scope = "each of " if len(rows) > 1 else ""
        out.append(f"{lower} has lower {name} than {scope}{others}, {seeds} (difference, 95 % interval: {diffs}; {methods}).")
    return out


def differences(name: str, by_setting: dict[str, dict]) -> list[str]:
    """The called differences between settings, or one line saying why none is called."""
    if len(by_setting) < 2:
        return []
    if not can_call(by_setting):
        return [f"{name}: one seed per setting, so no difference between settings can be called."]
    return called_sentences(name, by_setting) or [f"{name}: no difference between settings is beyond seed noise."]


# --- verdicts on a claim --------------------------------------------------------------------------
def trend(table: dict[str, dict], low: str, high: str, claimed: str) -> tuple[str, str]:
    """Is the value at setting `high` (the largest zn) above ('up') or below ('down') the one at `low`?"""
    if low not in table or high not in table or low == high:
        return UNMEASURABLE, "needs the measure at two zn"
    d = compare(table[high], table[low])
    if d is None:
        return UNRESOLVED, "one seed per setting: nothing can be called"
    if not d.called:
        return UNRESOLVED, f"the interval of {high} − {low} includes zero ({d})"
    way = "up" if d.mean > 0 else "down"
    return (SUPPORTED if way == claimed else CONTRADICTED), f"{high} − {low} = {d}, {d.holds}/{d.of} seeds"


def above_all(table: dict[str, dict], target: str) -> tuple[str, str]:
    """Is `target` (the largest zn) called higher than every other setting?"""
    others = [k for k in table if k != target]
    if target not in table or not others:
        return UNMEASURABLE, "needs the measure at two zn"
    diffs = {k: compare(table[target], table[k]) for k in others}
    if all(d is None for d in diffs.values()):
        return UNRESOLVED, "one seed per setting: nothing can be called"
    below = [k for k, d in diffs.items() if d is not None and d.called and d.mean < 0]
    if below:
        return CONTRADICTED, f"{target} is called lower than {', '.join(below)}"
    if all(d is not None and d.called for d in diffs.values()):
        return SUPPORTED, f"{target} is called higher than each of {', '.join(others)}"
    return UNRESOLVED, f"{target} is not called higher than {', '.join(k for k, d in diffs.items() if d is None or not d.called)}"


def level(table: dict[str, dict], limit: float, claimed: str) -> tuple[str, str]:
    """Is every setting's value at or below ('below') / above ('above') `limit`, by its 95 % interval?"""
    if not table:
        return UNMEASURABLE, "not logged"
    spans = {k: _span(v) for k, v in table.items()}
    if any(s is None for s in spans.values()):
        return UNRESOLVED, "one seed for some setting: its interval is unknown"
    low_side = [k for k, (lo, hi) in spans.items() if hi <= limit]
    high_side = [k for k, (lo, hi) in spans.items() if lo > limit]
    wanted, other = (low_side, high_side) if claimed == "below" else (high_side, low_side)
    if other:
        return CONTRADICTED, f"{', '.join(other)}: interval entirely {'above' if claimed == 'below' else 'at or below'} {limit:g}"
    if len(wanted) == len(spans):
        return SUPPORTED, f"every setting's interval is {'at or below' if claimed == 'below' else 'above'} {limit:g}"
    return UNRESOLVED, f"the interval of {', '.join(k for k in spans if k not in wanted)} includes {limit:g}"
