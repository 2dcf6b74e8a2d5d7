"""Findings: pure functions from numbers to sentences that carry those numbers. Nothing here is
canned: every sentence is computed, and where the data cannot carry a claim (one seed, too few
epochs, collapsed runs) the sentence says so instead of making it."""

from __future__ import annotations

import math

from analysis.stats import describe, finite, mean_spread
from analysis.text import MAX_SHARE, fmt, gap
from genlat.metrics.registry import direction

PLATEAU_FRACTION = 0.10  # "improvement stops": later epochs improve by at most this share of the total
PLATEAU_RULE = (
    f"the plateau epoch is the first epoch after which no later epoch improves the metric by more than "
    f"{PLATEAU_FRACTION:.0%} of its total improvement (epoch 1 to its best epoch); it needs at least 3 epochs, "
    f"and 2 epochs after it to be called a plateau; a curve that ends worse than its best by more than "
    f"{PLATEAU_FRACTION:.0%} of the total improvement is called unstable instead"
)


# --- Q1: settings against each other ------------------------------------------------------------
def best_setting(key: str, by_setting: dict[str, list[float]]) -> str | None:
    """Which setting is best by `key` at the final epoch, and by how much; None for a key with no better side."""
    way = direction(key)
    scored = {label: finite(v) for label, v in by_setting.items()}
    scored = {label: v for label, v in scored.items() if v}
    if way is None or len(scored) < 2:
        return None
    means = {label: mean_spread(v)[0] for label, v in scored.items()}
    ranked = sorted(means, key=means.get, reverse=way == "max")
    best, second, worst = ranked[0], ranked[1], ranked[-1]
    if means[best] == means[worst]:
        return f"{key}: every setting scores {fmt(means[best])}; no setting is better by this metric."
    word = "lower" if way == "min" else "higher"
    text = f"{key}: {best} is best ({describe(scored[best])}), {gap(means[best], means[second])} {word} than the runner-up {second} ({fmt(means[second])})"
    if worst != second:
        text += f" and {gap(means[best], means[worst])} {word} than the worst, {worst} ({fmt(means[worst])})"
    return text + "."  # whether the gap is beyond seed noise: analysis/stats.py, listed after these lines


def seed_note(seeds_per_setting: dict[str, int]) -> str | None:
    single = [label for label, n in seeds_per_setting.items() if n < 2]
    if not single:
        return f"Every setting has {min(seeds_per_setting.values())}+ seeds: spreads are sample standard deviations."
    scope = "every setting" if len(single) == len(seeds_per_setting) else ", ".join(single)
    return (f"One seed for {scope}: differences between settings are not tested against seed-to-seed variation; "
            f"treat them as observations, not results.")


def collapsed(final: dict[str, dict[str, float]]) -> str | None:
    """Settings whose final precision and recall are both 0: no generated image lands near a real one."""
    dead = [label for label, v in final.items() if v.get("eval/precision") == 0 and v.get("eval/recall") == 0]
    if not dead:
        return None
    scope = "Every setting" if len(dead) == len(final) else ", ".join(dead)
    return (f"{scope}: precision = recall = 0 at the final epoch: no generated image falls inside the real images' "
            f"k-NN manifold, so these runs have not learned the data yet (or collapsed); differences in FD/KID between "
            f"them rank failures, not good generators.")  # fmt: skip


def capacity_confound(params: dict[str, tuple[int, int]]) -> str | None:
    """params: setting -> (G parameters, D parameters)."""
    known = {k: v for k, v in params.items() if v[0] and v[1]}
    if len(known) < 2:
        return None
    lo, hi = min(known, key=lambda k: known[k][0]), max(known, key=lambda k: known[k][0])
    (g_lo, _), (g_hi, _) = known[lo], known[hi]
    ds = sorted({v[1] for v in known.values()})
    d_text = f"D stays at {ds[0]:,}" if len(ds) == 1 else f"D ranges {ds[0]:,}–{ds[-1]:,}"
    return (f"Capacity confound: G has {g_lo:,} parameters at {lo} and {g_hi:,} at {hi} (×{g_hi / g_lo:.2f}) while "
            f"{d_text}; a difference between settings may come from capacity as much as from zn.")  # fmt: skip


def feature_spaces(spaces: set[str]) -> str | None:
    if len(spaces) > 1:
        return (f"The runs were evaluated in {len(spaces)} different feature spaces ({', '.join(sorted(spaces))}): "
                f"their FD, KID, precision/recall and PPL are on different scales and are not comparable.")
    return None


# --- Q2: over time -------------------------------------------------------------------------------
def plateau(series: list[tuple[int, float]], way: str) -> dict:
    """Where improvement stops, by PLATEAU_RULE. Returns {'epoch', 'kind', 'share_by'} where kind is
    plateau | still-improving | unconfirmed | no-improvement | too-short."""
    pts = [(e, v) for e, v in series if math.isfinite(v)]
    if len(pts) < 3:
        return {"epoch": None, "kind": "too-short", "epochs": len(pts)}
    sign = 1 if way == "min" else -1
    vals = [sign * v for _, v in pts]  # lower is better from here on
    best_so_far = [min(vals[: i + 1]) for i in range(len(vals))]
    total = vals[0] - best_so_far[-1]
    if total <= 0:
        return {"epoch": None, "kind": "no-improvement", "epochs": len(pts)}
    i = next(i for i, b in enumerate(best_so_far) if b - best_so_far[-1] <= PLATEAU_FRACTION * total)
    later = len(pts) - 1 - i
    kind = "plateau" if later >= 2 else ("unconfirmed" if later == 1 else "still-improving")
    share = (vals[0] - best_so_far[i]) / total
    best_at = pts[vals.index(best_so_far[-1])][0]
    if vals[-1] - best_so_far[-1] > PLATEAU_FRACTION * total:
        kind = "regressed"  # the curve got worse again after its best: not a plateau, an unstable run
    return {"epoch": pts[i][0], "kind": kind, "share": share, "total": sign * total, "epochs": len(pts), "best_at": best_at}


def plateau_sentence(label: str, key: str, series: list[tuple[int, float]], way: str) -> str:
    p = plateau(series, way)
    if p["kind"] == "too-short":
        return f"{label}, {key}: {p['epochs']} evaluated epoch(s): too few to say when improvement stops."
    first, last = series[0][1], series[-1][1]
    moved = f"{fmt(first)} at epoch {series[0][0]} → {fmt(last)} at epoch {series[-1][0]}"
    if p["kind"] == "no-improvement":
        return f"{label}, {key}: {moved}; never better than epoch {series[0][0]}, so there is no improvement to plateau."
    at = f"epoch {p['epoch']} ({p['share']:.0%} of the total improvement of {fmt(abs(p['total']))} reached)"
    if p["kind"] == "regressed":
        back = abs(series[-1][1] - dict(series)[p['best_at']])
        by = f"{back / abs(p['total']):.0%} of the total improvement" if back < MAX_SHARE * abs(p["total"]) else \
            f"{fmt(back)} (the total improvement was only {fmt(abs(p['total']))})"  # fmt: skip
        return f"{label}, {key}: {moved}; best at epoch {p['best_at']}, then worse again by {by}: unstable, not a plateau."
    if p["kind"] == "plateau":
        return f"{label}, {key}: {moved}; plateaus at {at}."
    if p["kind"] == "unconfirmed":
        return f"{label}, {key}: {moved}; may level off at {at}, but only one later epoch confirms it."
    return f"{label}, {key}: {moved}; still improving at the last epoch: no plateau within {p['epochs']} epochs."


def plateau_overview(key: str, plateaus: dict[str, dict]) -> str | None:
    """One line across settings: when does improvement stop, by `key`."""
    done = {label: p["epoch"] for label, p in plateaus.items() if p["kind"] == "plateau"}
    going = [label for label, p in plateaus.items() if p["kind"] in ("still-improving", "unconfirmed")]
    unstable = [f"{label} (best at epoch {p['best_at']})" for label, p in plateaus.items() if p["kind"] == "regressed"]
    if not done and not going and not unstable:
        return None
    parts = []
    if done:
        parts.append("plateau at " + ", ".join(f"epoch {e} for {label}" for label, e in done.items()))
    if going:
        parts.append("no confirmed plateau for " + ", ".join(going))
    if unstable:
        parts.append("worse again after the best epoch for " + ", ".join(unstable))
    return f"{key}: " + "; ".join(parts) + "."


# --- Q3: interpolation --------------------------------------------------------------------------
def morph_sentence(label: str, cv: dict[str, float], peak: dict[str, float], steps: int | None) -> str | None:
    """cv, peak: method -> the run's eval/interp_cv_METHOD and eval/interp_peak_METHOD."""
    if not cv:
        return None
    jump = math.sqrt(steps - 2) if steps and steps > 2 else None  # the cv of a morph done in one step
    parts = []
    for method in sorted(cv):
        text = f"{method} cv {fmt(cv[method])}"
        if method in peak:
            text += f", largest step {fmt(peak[method])}× the mean"
        if jump:
            text += f" ({cv[method] / jump:.0%} of the way from an even morph to a single jump)"
        parts.append(text)
    out = f"{label}: " + "; ".join(parts) + "."
    if "slerp" in cv and "lerp" in cv and cv["lerp"] > 0:
        diff = cv["lerp"] - cv["slerp"]
        out += f" Slerp is {'more' if diff > 0 else 'less'} even than lerp by {gap(cv['slerp'], cv['lerp'])}" + \
            (" in cv." if abs(diff) >= MAX_SHARE * cv["lerp"] else ".")  # fmt: skip
    return out


def evenest(cv_by_setting: dict[str, list[float]], method: str) -> str | None:
    scored = {k: finite(v) for k, v in cv_by_setting.items()}
    scored = {k: v for k, v in scored.items() if v}
    if len(scored) < 2:
        return None
    means = {k: mean_spread(v)[0] for k, v in scored.items()}
    lo, hi = min(means, key=means.get), max(means, key=means.get)
    return f"Most even {method} morph: {lo} (cv {fmt(means[lo])}); least even: {hi} (cv {fmt(means[hi])})."
