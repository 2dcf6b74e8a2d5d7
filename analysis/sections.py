"""Build the report Document from a Study: the runs, then Q1 (latent size), Q2 (training over time)
and Q3 (interpolation), each closed by findings computed from the numbers above it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from analysis import answers, claims, figures, stats
from analysis.load import stamps
from analysis import findings as F
from analysis import numbers as N
from analysis.document import Document, Figure, Findings, Para, Section, Table
from analysis.load.study import Study
from analysis.text import fmt
from genlat.metrics import registry

STRIP_IMAGES = 4  # bank images per epoch column in the epoch series
METHOD_ORDER = ("slerp", "lerp", "slerp-real", "lerp-real")


def build(study: Study, fig_dir: Path, step: Callable[[str], None] = lambda _: None) -> Document:
    """Answers and claims first, then the runs, the evidence per question, and the full tables in an appendix;
    all of it once per measurement-stamp group: numbers with different stamps are never compared."""
    groups = stamps.group_by_stamp(study.runs)
    meta = meta_lines(study) + ([note] if (note := stamps.split_note(groups)) else [])
    opening, evidence, appendix = [], [], []
    for i, (stamp, runs) in enumerate(groups, 1):
        part = study if len(groups) == 1 else replace(study, runs=runs, problems=[])
        tag = "" if len(groups) == 1 else f"g{i}-"
        figs = FigDir(fig_dir, tag)
        step("answers and claims")
        rows = claims.table(part.settings)
        opening += _tagged([answers.section(part.settings, rows, figs), answers.claims_section(part.settings, rows)], tag, i, stamp)
        for make in (q1_section, q2_section, q3_section):
            step(make.__doc__.split(":")[0])
            evidence += _tagged([make(part, figs)], tag, i, stamp)
        appendix += _tagged([appendix_section(part)], tag, i, stamp)
    return Document(f"genlat report: {study.title}", meta, [*opening, runs_section(study), *evidence, *appendix])


def _tagged(sections: list[Section], tag: str, i: int, stamp: tuple) -> list[Section]:
    for section in sections if tag else []:
        section.key, section.title = tag + section.key, f"Group {i}, {section.title} ({stamps.describe(stamp)})"
        section.stamp = stamp
    return sections


class FigDir:
    """The figures folder with a name prefix per stamp group: `FigDir(d, "g2-") / "q1.png"` is d/g2-q1.png
    (the report owns only plain names in figures/, see report_files)."""

    def __init__(self, folder: Path, prefix: str = ""):
        self.folder, self.prefix = Path(folder), prefix

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
    lines.append(f"Made {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by genlat report")
    return lines


def runs_section(study: Study) -> Section:
    section = Section("runs", "The runs", "What was compared, and what failed.")
    label_of = {id(r): s.label for s in study.settings for r in s.runs}
    rows = [[r.name, label_of[id(r)], str(r.config.get("seed", "")), r.state, f"{N.last_epoch(r)}/{r.config.get('epochs', '?')}",
             _count(r.config.get("g_params")), _count(r.config.get("d_params"))] for s in study.settings for r in s.runs]  # fmt: skip
    if rows:
        section.blocks.append(Table(["run", "setting", "seed", "state", "epoch", "G params", "D params"], rows))
    items = [f"{p.name} ({p.state}): {p.reason}" for p in study.problems]
    if not study.runs:
        items.insert(0, "No run has a finished epoch: there is nothing to compare yet.")
    section.blocks.append(Findings(items or ["Every run finished."]))
    return section


def q1_section(study: Study, fig_dir: Path) -> Section:
    """Q1 latent size: one row per setting, metrics against zn, parameter counts."""
    s = Section("q1", "Q1: latent size", "What changes as zn grows?")
    settings = study.settings
    grids = [(st.label, r.samples[max(r.samples)], r.config.get("grid_nrow", 8)) for st in settings if (r := st.runs[0]).samples]
    if grids:
        count = min(g[2] for g in grids)
        path = figures.comparison(grids, count, fig_dir / "q1_comparison.png")
        epochs = sorted({max(st.runs[0].samples) for st in settings if st.runs[0].samples})
        s.blocks.append(Figure(path, f"The first {count} images of the fixed latent bank at the final epoch "
                                     f"({', '.join(map(str, epochs))}), one row per setting (first seed)."))  # fmt: skip
    keys = N.eval_keys(study.runs)
    labels = [st.label for st in settings]
    values = {k: {st.label: N.finals(st, k) for st in settings} for k in keys}
    if keys:
        path = figures.against_settings(values, labels, fig_dir / "q1_metrics.png")
        s.blocks.append(Figure(path, "Each eval metric at the final epoch against the setting: mean (line), "
                                     "each seed (dots), ±1 standard deviation (band, with 2+ seeds)."))  # fmt: skip
    items = [t for k in keys if registry.metric(k).role == registry.QUALITY and (t := F.best_setting(k, values[k]))]
    items += called_differences(settings, keys)
    items.append(_final_epoch_note(settings, keys))
    items.append(F.seed_note({st.label: len(st.runs) for st in settings}) if settings else None)
    items.append(F.collapsed({st.label: {k: sum(v) / len(v) for k in ("eval/precision", "eval/recall") if (v := N.finals(st, k))} for st in settings}))
    items.append(_active_units(settings))
    items.append(F.capacity_confound({st.label: (st.runs[0].config.get("g_params"), st.runs[0].config.get("d_params")) for st in settings}))
    items.append(F.feature_spaces(N.feature_space_names(study.runs)))
    s.blocks.append(Para(stats.PAIRWISE_RULE))
    s.blocks.append(Findings([i for i in items if i] or ["No eval metrics were logged: nothing to compare."]))
    return s


def appendix_section(study: Study) -> Section:
    """Appendix: every metric at the final epoch, per setting (mean ± standard deviation over seeds)."""
    s = Section("appendix", "Appendix: every metric", "Each logged metric at the final epoch: mean ± standard deviation (n seeds).")
    settings, keys = study.settings, N.eval_keys(study.runs)
    if not settings:
        return s
    rows = [["G parameters", *(_count(st.runs[0].config.get("g_params")) for st in settings)],
            ["D parameters", *(_count(st.runs[0].config.get("d_params")) for st in settings)]]  # fmt: skip
    rows += [[registry.titled(k), *(stats.describe(v) if (v := stats.finite(N.finals(st, k))) else "–" for st in settings)] for k in keys]
    s.blocks.append(Table(["metric", *(st.label for st in settings)], rows, notes=["", "", *keys]))
    return s


def called_differences(settings, keys: list[str]) -> list[str]:
    """Every difference beyond seed noise, for the headline metrics the runs logged."""
    out = []
    for k in N.headline_keys(keys):
        out += stats.differences(registry.name(k), N.seed_table(settings, lambda r, k=k: N.final_number(r, k)))
    return out


def _final_epoch_note(settings, keys) -> str | None:
    epochs = N.final_epochs(settings, keys[0]) if keys else set()
    if len(epochs) > 1:
        return f"Final epochs differ between runs ({', '.join(map(str, sorted(epochs)))}): later epochs have had more training."
    return None


def _active_units(settings) -> str | None:
    parts = [f"{st.label}: {fmt(sum(v) / len(v))} of {st.zn} ({sum(v) / len(v) / st.zn:.0%})"
             for st in settings if (v := N.finals(st, "eval/active_units")) and st.zn]  # fmt: skip
    return ("Active latent units at the final epoch: " + "; ".join(parts) + ".") if parts else None


def q2_section(study: Study, fig_dir: Path) -> Section:
    """Q2 training over time: epoch series per setting, metric curves, plateaus."""
    s = Section("q2", "Q2: training over time", "What does the epoch series show, and when does improvement stop?")
    for st in study.settings:
        run = st.runs[0]
        if len(run.samples) >= 1:
            nrow = run.config.get("grid_nrow", 8)
            path = figures.epoch_strip(run.samples, nrow, STRIP_IMAGES, fig_dir / f"q2_series_{figures.slug(st.label)}.png")
            s.blocks.append(Figure(path, f"{st.label} ({run.name}): the same {STRIP_IMAGES} latent vectors after every epoch."))
    keys = N.plotted_keys(study.runs, "q2")
    series = {k: {st.label: N.mean_curve(st, k) for st in study.settings} for k in keys}
    # quality and training numbers with a better side plateau; not eval/ppl, a smoothness number that
    # rises as a collapsed G learns
    plateau_keys = [k for k in keys if registry.direction(k) and registry.metric(k).role in (registry.QUALITY, registry.TRAINING)]
    plateaus = {k: {lab: F.plateau(pts, registry.direction(k)) for lab, pts in series[k].items()} for k in plateau_keys}
    marks = {k: {lab: p["epoch"] for lab, p in v.items() if p["kind"] in ("plateau", "unconfirmed")} for k, v in plateaus.items()}
    if keys and study.settings:
        path = figures.curves(series, marks, fig_dir / "q2_curves.png")
        s.blocks.append(Figure(path, "Metrics against epoch (mean over seeds); a circle marks the plateau epoch."))
    s.blocks.append(Para(f"Plateau rule: {F.PLATEAU_RULE}."))
    items = [t for k in plateaus if (t := F.plateau_overview(k, plateaus[k]))]
    lead = _lead_metric(study, list(plateaus))
    if lead:
        items += [F.plateau_sentence(lab, lead, pts, registry.direction(lead)) for lab, pts in series[lead].items() if pts]
    s.blocks.append(Findings(items or ["No metric was logged over epochs: nothing to say about training over time."]))
    return s


def _lead_metric(study: Study, keys: list[str]) -> str | None:
    metric = ((study.sweep or {}).get("metric") or {}).get("name")
    return metric if metric in keys else (keys[0] if keys else None)


def q3_section(study: Study, fig_dir: Path) -> Section:
    """Q3 interpolation: slerp and lerp panels per setting, with their evenness."""
    s = Section("q3", "Q3: interpolation", "How does moving z change the image: a smooth, even morph?")
    items = []
    cv_all: dict[str, dict[str, list[float]]] = {}
    for st in study.settings:
        run = st.runs[0]
        epoch = max((e for e, _ in run.panels), default=None)
        methods = sorted({m for e, m in run.panels if e == epoch}, key=lambda m: (METHOD_ORDER + (m,)).index(m))
        cv = {m: sum(v) / len(v) for m in methods if (v := N.finals(st, f"eval/interp_cv_{m}"))}
        peak = {m: sum(v) / len(v) for m in methods if (v := N.finals(st, f"eval/interp_peak_{m}"))}
        for m in methods:
            cv_all.setdefault(m, {})[st.label] = N.finals(st, f"eval/interp_cv_{m}")
        if methods:
            titles = [(f"{m}" + (f"  cv {fmt(cv[m])}" if m in cv else ""), run.panels[(epoch, m)]) for m in methods]
            path = figures.side_by_side(titles, fig_dir / f"q3_interp_{figures.slug(st.label)}.png")
            s.blocks.append(Figure(path, f"{st.label} ({run.name}), epoch {epoch}: each row walks from one bank vector to the next."))
        if run.reconstructions:
            e = max(run.reconstructions)
            path = figures.side_by_side([(f"reconstructions, epoch {e}", run.reconstructions[e])], fig_dir / f"q3_recon_{figures.slug(st.label)}.png")
            s.blocks.append(Figure(path, f"{st.label}: reconstructions of real images (epoch {e})."))
        items.append(F.morph_sentence(st.label, cv, peak, run.config.get("interp_steps")))
    items += [F.evenest(cv_all[m], m) for m in cv_all]
    items.append(F.best_setting("eval/ppl", {st.label: N.finals(st, "eval/ppl") for st in study.settings}))
    items.append(_norms(study))
    if F.collapsed({st.label: {k: v[0] for k in ("eval/precision", "eval/recall") if (v := N.finals(st, k))} for st in study.settings}):
        items.append("Precision and recall are 0 (see Q1): these morphs are between images of a generator that has not "
                     "learned the data, so their evenness says little about a trained one.")  # fmt: skip
    s.blocks.append(Findings([i for i in items if i] or ["No interpolation panels or evenness numbers were logged."]))
    return s


def _norms(study: Study) -> str | None:
    parts = []
    for m in ("lerp", "slerp"):
        v = [x for st in study.settings for x in N.finals(st, f"eval/interp_znorm_{m}")]
        if v:
            parts.append(f"{m} {fmt(min(v))}–{fmt(max(v))}")
    if not parts:
        return None
    return ("Norm of the interpolated z relative to the prior's (1 = on the shell the generator was trained on): "
            + ", ".join(parts) + ". Lerp leaves the prior's shell mid-way, which confounds its panels across zn.")


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else "?"
