"""The report as a Document, built from a Study: the answers and the claims table first, then the
runs, the evidence per question (analysis/questions/) and every number in an appendix; all of it
once per measurement-stamp group, since numbers with different stamps are never compared."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from analysis import numbers, stats
from analysis.document import Document, Findings, Heading, Para, Section, StampGroup, Table
from analysis.load import stamps
from analysis.load.study import Study
from analysis.questions import QUESTIONS, claims
from genlat.metrics import registry


def build(study: Study, fig_dir: Path, step: Callable[[str], None] = lambda _: None) -> Document:
    """step(what): called as each part begins (the progress bar)."""
    groups = stamps.group_by_stamp(study.runs)
    meta = meta_lines(study) + ([note] if (note := stamps.split_note(groups)) else [])
    opening, evidence, appendix, data = [], [], [], []
    for i, (stamp, runs) in enumerate(groups, 1):
        group = StampGroup(i, stamp, stamps.describe(stamp)) if len(groups) > 1 else None
        part = replace(study, runs=runs, problems=[]) if group else study
        figs = FigDir(fig_dir, group)
        step("answers and claims")
        rows = {q: q.claim_rows(part.settings) for q in QUESTIONS}
        family = claims.decide([r for q in QUESTIONS for r in rows[q]])  # the confirmatory family: Holm over the claims
        answers = [answers_section(part.settings, rows, figs), claims.section(part.settings, family)]
        data.append(results(group, family, numbers.exploratory(part.settings)))
        shown = []
        for q in QUESTIONS:
            step(q.TITLE)
            shown.append(q.evidence(part, figs))
        every = appendix_section(part)
        for section in (*answers, *shown, every):
            section.group = group
        opening, evidence, appendix = [*opening, *answers], [*evidence, *shown], [*appendix, every]
    doc = Document(f"genlat report: {study.title}", meta, [*opening, runs_section(study), *evidence, *appendix])
    doc.data = {
        "title": study.title,
        "source": study.source,
        "plus_minus": stats.PLUS_MINUS,
        "alpha": stats.ALPHA,
        "groups": data,
    }
    return doc


def results(group: StampGroup | None, family: list, explored: list) -> dict:
    """One stamp group's results for report.json: every claim and every exploratory test."""
    return {"stamp": group.text if group else None,
            "confirmatory": {"correction": "Holm", "tests": sum(r.outcome.p is not None for r in family),
                             "called": sum(r.verdict in (stats.SUPPORTED, stats.CONTRADICTED) for r in family),
                             "claims": [r.as_data() for r in family]},
            "exploratory": {"correction": "Benjamini-Hochberg", "tests": len(explored), "called": sum(t.called for t in explored),
                            "differences": [{"key": t.key, "lower": t.a, "higher": t.b, "method": t.diff.method, "estimate": t.diff.mean,
                                             "interval": [t.diff.lo, t.diff.hi], "p": t.diff.p, "p_adjusted": t.p_adjusted,
                                             "called": t.called} for t in explored]}}  # fmt: skip


class FigDir:
    """The figures folder with a name prefix per stamp group: `FigDir(d, group 2) / "q1.png"` is
    d/g2-q1.png (the report owns only plain names in figures/, see report_files)."""

    def __init__(self, folder: Path, group: StampGroup | None = None):
        self.folder, self.prefix = Path(folder), (f"g{group.number}-" if group else "")

    def __truediv__(self, name: str) -> Path:
        return self.folder / (self.prefix + name)


def meta_lines(study: Study) -> list[str]:
    lines = [f"Source: {study.source}"]
    if study.sweep:
        metric = study.sweep.get("metric") or {}
        lines.append(f"Sweep {study.sweep.get('name')} (id {study.sweep.get('sweep_id')}, {study.sweep.get('method')}"
                     + (f", metric {metric.get('name')} ({metric.get('goal')})" if metric else "") + ")")  # fmt: skip
    seeds = sorted({len(s.runs) for s in study.settings})
    lines.append(f"{len(study.runs)} run(s) with results in {len(study.settings)} setting(s) "
                 f"({'/'.join(map(str, seeds)) or 0} seed(s) each); {len(study.problems)} problem(s)")  # fmt: skip
    groups = stamps.group_by_stamp(study.runs)
    if len(groups) == 1:
        lines.append(f"Measurement stamp of every run: {stamps.describe(groups[0][0])}")
    lines.append(stats.PLUS_MINUS)
    lines.append(f"Made {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by genlat report")
    return lines


def answers_section(settings, rows: dict, figs: FigDir) -> Section:
    """Q1, Q2 and Q3 answered in a few sentences each, written from the numbers (their claims' rows and
    the differences beyond seed noise), each with the one figure that shows it. Human metric names
    only: keys stay in the evidence and the appendix."""
    s = Section("answers", "Answers", "What the runs say about Q1, Q2 and Q3, in a few sentences each.")
    for q in QUESTIONS:
        s.blocks += [Heading(q.HEADING), *(t if isinstance(t, Para) else Para(t) for t in q.answer(settings, rows[q]))]
        if fig := q.answer_figure(settings, rows[q], figs):
            s.blocks.append(fig)
    return s


def runs_section(study: Study) -> Section:
    section = Section("runs", "The runs", "What was compared, and what failed.")
    label_of = {id(r): s.label for s in study.settings for r in s.runs}
    rows = [[r.name, label_of[id(r)], str(r.config.get("seed", "")), r.state, f"{numbers.last_epoch(r)}/{r.config.get('epochs', '?')}",
             _count(r.config.get("g_params")), _count(r.config.get("d_params"))] for s in study.settings for r in s.runs]  # fmt: skip
    if rows:
        section.blocks.append(Table(["run", "setting", "seed", "state", "epoch", "G params", "D params"], rows))
    items = [f"{p.name} ({p.state}): {p.reason}" for p in study.problems]
    if not study.runs:
        items.insert(0, "No run has a finished epoch: there is nothing to compare yet.")
    section.blocks.append(Findings(items or ["Every run finished."]))
    return section


def appendix_section(study: Study) -> Section:
    """Every measure at the final epoch, per setting (mean ± half-width of the 95 % interval over seeds)."""
    s = Section(
        "appendix",
        "Appendix: every metric",
        "Each logged metric at the final epoch: mean ± half-width of the 95 % interval over seeds (n seeds).",
    )
    settings, keys = study.settings, numbers.eval_keys(study.runs)
    if not settings:
        return s
    rows = [["G parameters", *(_count(st.runs[0].config.get("g_params")) for st in settings)],
            ["D parameters", *(_count(st.runs[0].config.get("d_params")) for st in settings)]]  # fmt: skip
    rows += [
        [
            registry.titled(k),
            *(stats.describe(v) if (v := stats.finite(numbers.finals(st, k))) else "–" for st in settings),
        ]
        for k in keys
    ]
    s.blocks.append(Table(["metric", *(st.label for st in settings)], rows, notes=["", "", *keys]))
    return s


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else "?"
