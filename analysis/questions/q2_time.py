"""Q2, training over time: what does the epoch series show? The study's claim by eye: fast gains in
epochs 1-4, then a plateau. Its claim's row (each run's plateau epoch by the plateau rule), its
answer, and its evidence: the same z after every epoch, the metrics against epoch with the plateau
marked, and when improvement stops, per setting."""

from __future__ import annotations

import math

from analysis import figures, numbers, stats
from analysis.document import Figure, Findings, Para, Section
from analysis.questions import claims
from analysis.questions.claims import ClaimRow
from analysis.text import MAX_SHARE, fmt
from genlat.metrics import registry

NAME, TITLE, QUESTION = (
    "q2",
    "Q2: training over time",
    "What does the epoch series show, and when does improvement stop?",
)
HEADING = "Q2, training over time: fast gains, then a plateau?"
EARLY_EPOCHS = 4  # the study: "fast gains in epochs 1-4, then little progress"
PLATEAU_EPOCHS = EARLY_EPOCHS + 2  # the plateau rule needs 2 epochs after the plateau epoch to confirm it
STRIP_IMAGES = 4  # bank images per epoch column in the epoch series
PLATEAU_FRACTION = 0.10  # "improvement stops": later epochs improve by at most this share of the total
PLATEAU_RULE = (
    f"the plateau epoch is the first epoch after which no later epoch improves the metric by more than "
    f"{PLATEAU_FRACTION:.0%} of its total improvement (epoch 1 to its best epoch); it needs at least 3 epochs, "
    f"and 2 epochs after it to be called a plateau; a curve that ends worse than its best by more than "
    f"{PLATEAU_FRACTION:.0%} of the total improvement is called unstable instead"
)


# --- the plateau rule -----------------------------------------------------------------------------
def plateau(series: list[tuple[int, float]], way: str) -> dict:
    """Where improvement stops, by PLATEAU_RULE: {'epoch', 'kind', ...} where kind is plateau |
    still-improving | unconfirmed | regressed | no-improvement | too-short."""
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
    return {
        "epoch": pts[i][0],
        "kind": kind,
        "share": share,
        "total": sign * total,
        "epochs": len(pts),
        "best_at": best_at,
    }


def plateau_sentence(label: str, key: str, series: list[tuple[int, float]], way: str) -> str:
    p = plateau(series, way)
    if p["kind"] == "too-short":
        return f"{label}, {key}: {p['epochs']} evaluated epoch(s): too few to say when improvement stops."
    first, last = series[0][1], series[-1][1]
    moved = f"{fmt(first)} at epoch {series[0][0]} → {fmt(last)} at epoch {series[-1][0]}"
    if p["kind"] == "no-improvement":
        return (
            f"{label}, {key}: {moved}; never better than epoch {series[0][0]}, so there is no improvement to plateau."
        )
    at = f"epoch {p['epoch']} ({p['share']:.0%} of the total improvement of {fmt(abs(p['total']))} reached)"
    if p["kind"] == "regressed":
        back = abs(series[-1][1] - dict(series)[p["best_at"]])
        by = f"{back / abs(p['total']):.0%} of the total improvement" if back < MAX_SHARE * abs(p["total"]) else \
            f"{fmt(back)} (the total improvement was only {fmt(abs(p['total']))})"  # fmt: skip
        return (
            f"{label}, {key}: {moved}; best at epoch {p['best_at']}, then worse again by {by}: unstable, not a plateau."
        )
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


# --- the claim ------------------------------------------------------------------------------------
def plateau_epochs(settings) -> dict[str, dict]:
    """Per run, the plateau epoch of its FD curve (the last epoch when still improving: a lower bound)."""

    def value(r):
        pts = r.series("eval/fd")
        p = plateau(pts, "min")
        if p["kind"] in ("plateau", "unconfirmed"):
            return float(p["epoch"])
        return float(pts[-1][0]) if p["kind"] == "still-improving" else None

    return numbers.seed_table(settings, value)


def claim_rows(settings) -> list[ClaimRow]:
    table = plateau_epochs(settings)
    evaluated = max((len(r.series("eval/fd")) for st in settings for r in st.runs), default=0)
    verdict = stats.level(table, EARLY_EPOCHS, "below") if evaluated >= PLATEAU_EPOCHS else \
        claims.absent(f"needs {PLATEAU_EPOCHS}+ evaluated epochs (epochs 1–{EARLY_EPOCHS} and 2 after), these runs have {evaluated}")  # fmt: skip
    return [claims.row("Q2", f"Fast gains in epochs 1–{EARLY_EPOCHS}, then a plateau.",
                       f"plateau epoch of each run's Fréchet distance (the plateau rule in Q2): at or before epoch {EARLY_EPOCHS}",
                       ["eval/fd"], table, verdict, settings, practical=(1.0, "one epoch"))]  # fmt: skip


# --- the answer -----------------------------------------------------------------------------------
def answer(settings, rows: list[ClaimRow]) -> list:
    out = [claims.para(r) for r in rows]
    for st in settings:
        pts = dict(numbers.mean_curve(st, "eval/fd"))
        if pts:
            marks = [e for e in sorted(pts) if e in (min(pts), EARLY_EPOCHS, max(pts))]
            out.append(
                f"{st.label}: Fréchet distance "
                + " → ".join(f"{fmt(pts[e])} (epoch {e})" for e in marks)
                + ", mean over seeds."
            )
    return out


def answer_figure(settings, rows: list[ClaimRow], figs) -> Figure | None:
    series = {}
    for st in settings:
        by_epoch: dict[int, list[float]] = {}
        for r in st.runs:
            for e, v in r.series("eval/fd"):
                by_epoch.setdefault(e, []).append(v)
        if by_epoch:
            series[st.label] = by_epoch
    if not series:
        return None
    path = figures.band_curves(series, registry.titled("eval/fd") + " against epoch", figs / "answer_q2.png")
    return Figure(
        path,
        "Mean over seeds per setting; the band is the 95 % interval over seeds (on a log axis: the "
        "geometric mean and the interval computed on the log of the values, so the band stays above zero).",
    )


# --- the evidence ---------------------------------------------------------------------------------
def evidence(study, figs) -> Section:
    """Epoch series per setting, metric curves, plateaus."""
    s = Section(NAME, TITLE, QUESTION)
    for st in study.settings:
        runs = [r for r in st.runs if r.samples]
        if runs:
            strips = [(f"seed {r.config.get('seed', r.name)}", r.samples, r.config.get("grid_nrow", 8)) for r in runs]
            path = figures.epoch_strips(strips, STRIP_IMAGES, figs / f"q2_series_{figures.slug(st.label)}.png")
            s.blocks.append(Figure(path, f"{st.label}, every seed ({', '.join(r.name for r in runs)}): the same {STRIP_IMAGES} "
                                         f"latent vectors after every epoch."))  # fmt: skip
    keys = numbers.plotted_keys(study.runs, NAME)
    series = {k: {st.label: numbers.mean_curve(st, k) for st in study.settings} for k in keys}
    # a measure of the last epoch only (--eval_full_every 0: PPL) is no curve
    keys = [k for k in keys if any(len(pts) > 1 for pts in series[k].values())]
    series = {k: series[k] for k in keys}
    # quality and training numbers with a better side plateau; not eval/ppl, a smoothness number that
    # rises as a collapsed G learns
    plateau_keys = [
        k for k in keys if registry.direction(k) and registry.metric(k).role in (registry.QUALITY, registry.TRAINING)
    ]
    plateaus = {k: {lab: plateau(pts, registry.direction(k)) for lab, pts in series[k].items()} for k in plateau_keys}
    marks = {
        k: {lab: p["epoch"] for lab, p in v.items() if p["kind"] in ("plateau", "unconfirmed")}
        for k, v in plateaus.items()
    }
    if keys and study.settings:
        path = figures.curves(series, marks, figs / "q2_curves.png")
        s.blocks.append(Figure(path, "Metrics against epoch (mean over seeds); a circle marks the plateau epoch."))
    s.blocks.append(Para(f"Plateau rule: {PLATEAU_RULE}."))
    items = [t for k in plateaus if (t := plateau_overview(k, plateaus[k]))]
    if lead := _lead_metric(study, list(plateaus)):
        items += [
            plateau_sentence(lab, lead, pts, registry.direction(lead)) for lab, pts in series[lead].items() if pts
        ]
    s.blocks.append(Findings(items or ["No metric was logged over epochs: nothing to say about training over time."]))
    return s


def _lead_metric(study, keys: list[str]) -> str | None:
    """The sweep's metric when it plateaus, else the first metric that does."""
    metric = ((study.sweep or {}).get("metric") or {}).get("name")
    return metric if metric in keys else (keys[0] if keys else None)
