"""The report's opening: Q1, Q2 and Q3 answered in a few sentences each, written from the numbers
(the claims table's rows and the differences beyond seed noise), each with the one figure that shows
it (seed error bars); then the claims table with its rules. Human metric names only: keys stay in
the evidence and the appendix."""

from __future__ import annotations

from analysis import claims as C
from analysis import figures, stats
from analysis import findings as F
from analysis import numbers as N
from analysis.document import Figure, Heading, Para, Section, Table
from analysis.text import fmt
from genlat.metrics import registry

# The answer's quality numbers: the headline ones (eval/fd, eval/precision, eval/recall)
QUALITY = tuple(m.key for m in registry.METRICS if m.role == registry.QUALITY and m.headline)


def _claim_sentence(row: C.ClaimRow) -> str:
    vals = list(row.values.items())
    span = " → ".join(f"{v} at {label}" for label, v in (vals[:1] + vals[-1:] if len(vals) > 1 else vals)) or "not logged"
    return f"{row.code} \u201c{row.claim}\u201d {row.verdict.capitalize()}: {row.name} {span} ({row.why})."


def _seeds(settings, key: str) -> dict[str, list[float]]:
    return {lab: list(v.values()) for lab, v in N.seed_table(settings, lambda r: N.final_number(r, key)).items()}


def q1_text(settings, rows: list[C.ClaimRow]) -> list[str]:
    out = [_claim_sentence(r) for r in rows if r.code.startswith("Q1")]
    for key in QUALITY:
        table = N.seed_table(settings, lambda r, k=key: N.final_number(r, k))
        out += stats.differences(registry.titled(key), table)
    return out


def q1_figure(settings, rows, fig_dir) -> Figure | None:
    keys = [k for k in ("eval/fd", "eval/precision", "eval/detail_hf_ratio", "eval/fragmented_share") if _seeds(settings, k)]
    panels = {registry.titled(k): _seeds(settings, k) for k in keys}
    for r in rows:
        if r.code.startswith("Q1c") and r.values:
            used = C.finals_table(settings, r.keys[0], per_zn=True)
            panels[f"share of zn in use ({r.code[5:-1]})"] = {lab: list(v.values()) for lab, v in used.items()}
    if not panels:
        return None
    path = figures.with_intervals(panels, [st.label for st in settings], fig_dir / "answer_q1.png")
    return Figure(path, "At the final epoch, per setting: mean with its 95 % interval over seeds (bars) and each seed (grey dots).")


def q2_text(settings, row: C.ClaimRow) -> list[str]:
    out = [_claim_sentence(row)]
    for st in settings:
        pts = dict(N.mean_curve(st, "eval/fd"))
        if pts:
            marks = [e for e in sorted(pts) if e in (min(pts), C.EARLY_EPOCHS, max(pts))]
            out.append(f"{st.label}: Fréchet distance " + " → ".join(f"{fmt(pts[e])} (epoch {e})" for e in marks) + ", mean over seeds.")
    return out


def q2_figure(settings, fig_dir) -> Figure | None:
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
    path = figures.band_curves(series, registry.titled("eval/fd") + " against epoch", fig_dir / "answer_q2.png")
    return Figure(path, "Mean over seeds per setting; the band is the 95 % interval over seeds.")


def q3_text(settings, rows: list[C.ClaimRow]) -> list[str]:
    out = [_claim_sentence(r) for r in rows if r.code.startswith("Q3") and r.verdict != stats.UNMEASURABLE]
    for m in ("slerp", "lerp"):
        if table := N.seed_table(settings, lambda r, k=f"eval/interp_cv_{m}": N.final_number(r, k)):
            out.append(f"{registry.name(f'eval/interp_cv_{m}').capitalize()} (0 = even steps): "
                       + "; ".join(f"{lab} {stats.interval_text(v)}" for lab, v in table.items()) + ".")  # fmt: skip
    return out or [_claim_sentence(r) for r in rows if r.code.startswith("Q3")]


def q3_figure(settings, fig_dir) -> Figure | None:
    keys = [k for k in ("eval/class_flips_slerp", "eval/class_flips_lerp") if _seeds(settings, k)]
    keys = keys or [k for k in ("eval/interp_cv_slerp", "eval/interp_cv_lerp") if _seeds(settings, k)]
    if not keys:
        return None
    path = figures.with_intervals({registry.name(k): _seeds(settings, k) for k in keys}, [st.label for st in settings], fig_dir / "answer_q3.png")
    return Figure(path, "At the final epoch, per setting: mean with its 95 % interval over seeds (bars) and each seed (grey dots).")


def section(settings, rows: list[C.ClaimRow], fig_dir) -> Section:
    s = Section("answers", "Answers", "What the runs say about Q1, Q2 and Q3, in a few sentences each.")
    parts = (("Q1, latent size: what changes as zn grows?", q1_text(settings, rows), q1_figure(settings, rows, fig_dir)),
             ("Q2, training over time: fast gains, then a plateau?", q2_text(settings, next(r for r in rows if r.code == "Q2")), q2_figure(settings, fig_dir)),
             ("Q3, interpolation: a gradual morph?", q3_text(settings, rows), q3_figure(settings, fig_dir)))  # fmt: skip
    for title, sentences, fig in parts:
        s.blocks += [Heading(title), *(Para(t) for t in sentences)]
        if fig:
            s.blocks.append(fig)
    return s


def claims_section(settings, rows: list[C.ClaimRow]) -> Section:
    s = Section("claims", "The study's claims, tested", "Each claim, the measure that tests it, and a verdict from the numbers.")
    labels = [st.label for st in settings]
    s.blocks.append(Table(["claim", "measure", *labels, "verdict", "why", "budget"],
                          [[f"{r.code}: {r.claim}", r.measure, *(r.values.get(lab, "–") for lab in labels), r.verdict, r.why, r.budget] for r in rows],
                          notes=[", ".join(r.keys) for r in rows]))  # fmt: skip
    s.blocks.append(Para(stats.VERDICT_RULE + " " + stats.PAIRWISE_RULE + " Values: mean ± half-width of the 95 % interval over seeds (n seeds)."))
    return s
