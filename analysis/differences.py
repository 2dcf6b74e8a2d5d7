"""Sentences for the differences between settings that are beyond seed noise (analysis/pairwise.py
decides which): every called difference, grouped by the lower setting, each with its interval."""

from __future__ import annotations

from analysis import pairwise
from analysis.findings import fmt


def seed_table(settings, finals_by_run) -> dict[str, dict]:
    """setting label -> {seed (or run name without one): final value}; finals_by_run(run) -> value or None."""
    out = {}
    for st in settings:
        values = {}
        for r in st.runs:
            if (v := finals_by_run(r)) is not None:
                values[r.config.get("seed", r.name)] = v
        if values:
            out[st.label] = values
    return out


def _interval(d: pairwise.Diff) -> str:
    return f"{fmt(d.mean)} [{fmt(d.lo)}, {fmt(d.hi)}]"


def sentences(name: str, by_setting: dict[str, dict]) -> list[str]:
    """name: the metric's human name. One sentence per setting that is called lower than another."""
    found = pairwise.called(by_setting)
    by_lower: dict[str, list] = {}
    for lower, higher, d in found:
        by_lower.setdefault(lower, []).append((higher, d))
    out = []
    for lower, rows in by_lower.items():
        others = ", ".join(h for h, _ in rows)
        holds = {f"{d.holds}/{d.of}" for _, d in rows}
        unit = "seed pairs" if all(d.method == "Welch" for _, d in rows) else "seeds"
        seeds = f"in {holds.pop()} {unit}" + (" each" if len(rows) > 1 else "") if len(holds) == 1 else \
            "in " + ", ".join(f"{d.holds}/{d.of}" for _, d in rows) + f" {unit}"  # fmt: skip
        methods = "/".join(sorted({d.method for _, d in rows}))
        diffs = "; ".join(_interval(d) for _, d in rows)
        scope = "each of " if len(rows) > 1 else ""
        out.append(f"{lower} has lower {name} than {scope}{others}, {seeds} (difference, 95 % interval: {diffs}; {methods}).")
    return out


def summary(name: str, by_setting: dict[str, dict]) -> list[str]:
    """The called differences, or one line saying why none is called."""
    if len(by_setting) < 2:
        return []
    if not pairwise.can_call(by_setting):
        return [f"{name}: one seed per setting, so no difference between settings can be called."]
    return sentences(name, by_setting) or [f"{name}: no difference between settings is beyond seed noise."]
