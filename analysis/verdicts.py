"""Verdicts on the study's claims, from seed tables (setting label -> {seed: value}) by stated rules:
supported, contradicted, not resolved (the 95 % intervals do not decide it, or one seed calls
nothing), not measurable (the measure was not logged, or the study lacks what the claim needs).
Pure functions; the rules are quoted in the report next to the table."""

from __future__ import annotations

from analysis import pairwise

SUPPORTED, CONTRADICTED, UNRESOLVED, UNMEASURABLE = "supported", "contradicted", "not resolved", "not measurable"
RULE = ("Verdicts come from the numbers: a comparison between settings is decided only when its 95 % interval over "
        "seeds excludes zero (the pairwise rule below); a claim about a level (at most one shape change per path; "
        "the plateau by epoch 4) is decided only when every setting's 95 % interval lies on one side of it. "
        "Supported: decided the claimed way; contradicted: decided the other way; not resolved: not decided "
        "(intervals include zero or the level, or one seed per setting); not measurable: the measure was not "
        "logged (e.g. a shapes-only measure on another dataset) or the study lacks what the claim needs.")  # fmt: skip


def trend(table: dict[str, dict], low: str, high: str, claimed: str) -> tuple[str, str]:
    """Is the value at setting `high` (the largest zn) above ('up') or below ('down') the one at `low`?"""
    if low not in table or high not in table or low == high:
        return UNMEASURABLE, "needs the measure at two zn"
    d = pairwise.compare(table[high], table[low])
    if d is None:
        return UNRESOLVED, "one seed per setting: nothing can be called"
    if not d.called:
        return UNRESOLVED, f"the interval of {high} − {low} includes zero ({_iv(d)})"
    way = "up" if d.mean > 0 else "down"
    return (SUPPORTED if way == claimed else CONTRADICTED), f"{high} − {low} = {_iv(d)}, {d.holds}/{d.of} seeds"


def above_all(table: dict[str, dict], target: str) -> tuple[str, str]:
    """Is `target` (the largest zn) called higher than every other setting?"""
    others = [k for k in table if k != target]
    if target not in table or not others:
        return UNMEASURABLE, "needs the measure at two zn"
    diffs = {k: pairwise.compare(table[target], table[k]) for k in others}
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


def _span(values: dict) -> tuple[float, float] | None:
    m, half = pairwise.mean_interval(list(values.values()))
    return None if half is None else (m - half, m + half)


def _iv(d: pairwise.Diff) -> str:
    from analysis.findings import fmt

    return f"{fmt(d.mean)} [{fmt(d.lo)}, {fmt(d.hi)}]"
