"""Q3, interpolation: how does moving z change the image? The study's claim by eye: a gradual,
smooth morph from image 1 to image 2. Its claims' rows (predicted-shape changes along slerp and lerp
paths), its answer, and its evidence: the panels per setting with their evenness, the walk's norm."""

from __future__ import annotations

import math
import statistics

from analysis import figures, numbers, stats
from analysis.document import Figure, Findings, Section
from analysis.questions import claims
from analysis.questions.claims import ClaimRow
from analysis.questions.q1_latent import best_setting, collapsed
from analysis.text import fmt
from genlat.metrics import registry

NAME, TITLE, QUESTION = "q3", "Q3: interpolation", "How does moving z change the image: a smooth, even morph?"
HEADING = "Q3, interpolation: a gradual morph?"
GRADUAL_FLIPS = 1.0  # a path between two different shapes changes class once when the morph is gradual
METHODS = ("slerp", "lerp")  # the claim's paths (the latent bank's)
METHOD_ORDER = (*METHODS, "slerp-real", "lerp-real")  # panels side by side; a VAE also walks between real images


def claim_rows(settings) -> list[ClaimRow]:
    rows = []
    for method in METHODS:
        key = f"eval/class_flips_{method}"
        table = claims.finals_table(settings, key)
        verdict = stats.level(table, GRADUAL_FLIPS, "below") if table else claims.missing(settings, key)
        rows.append(claims.row(f"Q3 ({method})", "Moving z gives a gradual morph from image 1 to image 2.",
                               f"shape changes along a {method} path between two bank images: at most {GRADUAL_FLIPS:g} per path",
                               [key], table, verdict, settings, practical=(0.25, "a quarter of a shape change per path")))  # fmt: skip
    return rows


def answer(settings, rows: list[ClaimRow]) -> list:
    out = [claims.para(r) for r in rows if r.verdict != stats.UNMEASURABLE]
    for m in METHODS:
        if table := numbers.finals_by_seed(settings, f"eval/interp_cv_{m}"):
            out.append(f"{registry.name(f'eval/interp_cv_{m}').capitalize()} (0 = even steps): "
                       + "; ".join(f"{lab} {stats.interval_text(v)}" for lab, v in table.items()) + ".")  # fmt: skip
    return out or [claims.para(r) for r in rows]


def answer_figure(settings, rows: list[ClaimRow], figs) -> Figure | None:
    keys = [k for k in (f"eval/class_flips_{m}" for m in METHODS) if numbers.seed_lists(settings, k)]
    keys = keys or [k for k in (f"eval/interp_cv_{m}" for m in METHODS) if numbers.seed_lists(settings, k)]
    if not keys:
        return None
    panels = {registry.name(k): numbers.seed_lists(settings, k) for k in keys}
    bounds = {registry.name(k): registry.bounds(k) for k in keys}
    path = figures.with_intervals(panels, [st.label for st in settings], figs / "answer_q3.png", bounds)
    return Figure(
        path,
        "At the final epoch, per setting: mean with its 95 % interval over seeds (bars, cut at the measure's "
        "possible range) and each seed (grey dots).",
    )


def evidence(study, figs) -> Section:
    """Slerp and lerp panels per setting, with their evenness."""
    s = Section(NAME, TITLE, QUESTION)
    items = []
    cv_all: dict[str, dict[str, list[float]]] = {}
    for st in study.settings:
        run = st.runs[0]
        epoch = max((e for e, _ in run.panels), default=None)
        methods = sorted({m for e, m in run.panels if e == epoch}, key=lambda m: (METHOD_ORDER + (m,)).index(m))
        cv = {m: sum(v) / len(v) for m in methods if (v := numbers.finals(st, f"eval/interp_cv_{m}"))}
        peak = {m: sum(v) / len(v) for m in methods if (v := numbers.finals(st, f"eval/interp_peak_{m}"))}
        for m in methods:
            cv_all.setdefault(m, {})[st.label] = numbers.finals(st, f"eval/interp_cv_{m}")
        rows = []  # every seed's panels at its last epoch, one row of methods per seed
        for r in st.runs:
            last = max((e for e, _ in r.panels), default=None)
            mine = [m for m in methods if (last, m) in r.panels]
            if mine:
                cv_r = {m: v for m in mine if (v := numbers.final_number(r, f"eval/interp_cv_{m}")) is not None}
                rows.append([(f"seed {r.config.get('seed', r.name)}, {m}" + (f"  cv {fmt(cv_r[m])}" if m in cv_r else ""), r.panels[(last, m)])
                             for m in mine])  # fmt: skip
        if rows:
            path = figures.panel_rows(rows, figs / f"q3_interp_{figures.slug(st.label)}.png")
            s.blocks.append(
                Figure(
                    path,
                    f"{st.label}, every seed, epoch {epoch}: each row of a panel walks from one bank vector to the next.",
                )
            )
        walks = [m for m in METHODS if (epoch, m) in run.panels]
        if walks and (steps := run.config.get("interp_steps")):
            path = figures.morph_gif(
                [run.panels[(epoch, m)] for m in walks], steps, figs / f"q3_morph_{figures.slug(st.label)}.gif"
            )
            s.blocks.append(Figure(path, f"{st.label} ({run.name}), epoch {epoch}: the morph as an animation, "
                                         f"{' above '.join(walks)}, every pair side by side."))  # fmt: skip
        if run.reconstructions:
            e = max(run.reconstructions)
            path = figures.side_by_side(
                [(f"reconstructions, epoch {e}", run.reconstructions[e])],
                figs / f"q3_recon_{figures.slug(st.label)}.png",
            )
            s.blocks.append(Figure(path, f"{st.label}: reconstructions of real images (epoch {e})."))
        items.append(morph_sentence(st.label, cv, peak, run.config.get("interp_steps")))
    called = {
        t.key for t in numbers.exploratory(study.settings) if t.called
    }  # a ranking only where a difference is called
    items += [evenest(cv_all[m], m) for m in cv_all if f"eval/interp_cv_{m}" in called]
    if "eval/ppl" in called:
        items.append(best_setting("eval/ppl", {st.label: numbers.finals(st, "eval/ppl") for st in study.settings}))
    items.append(_norms(study))
    if collapsed(
        {
            st.label: {k: v[0] for k in ("eval/precision", "eval/recall") if (v := numbers.finals(st, k))}
            for st in study.settings
        }
    ):
        items.append("Precision and recall are 0 (see Q1): these morphs are between images of a generator that has not "
                     "learned the data, so their evenness says little about a trained one.")  # fmt: skip
    s.blocks.append(Findings([i for i in items if i] or ["No interpolation panels or evenness numbers were logged."]))
    return s


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
    return f"{label} (mean over seeds): " + "; ".join(parts) + "."  # no ranking of the methods: nothing tests it


def evenest(cv_by_setting: dict[str, list[float]], method: str) -> str | None:
    scored = {k: v for k, values in cv_by_setting.items() if (v := stats.finite(values))}
    if len(scored) < 2:
        return None
    means = {k: statistics.fmean(v) for k, v in scored.items()}
    lo, hi = min(means, key=means.get), max(means, key=means.get)
    return f"Most even {method} morph: {lo} (cv {fmt(means[lo])}); least even: {hi} (cv {fmt(means[hi])})."


def _norms(study) -> str | None:
    parts = []
    for m in ("lerp", "slerp"):
        v = [x for st in study.settings for x in numbers.finals(st, f"eval/interp_znorm_{m}")]
        if v:
            parts.append(f"{m} {fmt(min(v))}–{fmt(max(v))}")
    if not parts:
        return None
    return (
        "Norm of the interpolated z relative to the prior's (1 = on the shell the generator was trained on): "
        + ", ".join(parts)
        + ". Lerp leaves the prior's shell mid-way, which confounds its panels across zn."
    )
