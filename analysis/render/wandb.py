"""`--publish`: the same Document as a W&B Report (wandb-workspaces, reports v2): a run set filtered
to the study's runs and grouped by every setting that varies (zn, and lr when a sweep varies it too),
the eval metrics against zn (Q1, Q3: scatter plots of each run's summary: the last epoch's value, the
best epoch's for the metric that ranks the runs), the training curves
against epoch (Q2), the merged epoch-series and interpolation tables, the runs' morph videos (Q3: a
media browser of `interpolation_morph/<method>`), and each section's findings as Markdown. A report
split by measurement stamp gets one run set per stamp group. `build_report` only builds the objects
(tests inspect them offline); `publish` checks the login first, then saves."""

from __future__ import annotations

import re

from analysis import numbers
from analysis.document import Document, Heading, Para, Table
from analysis.load.study import Study, setting_keys
from analysis.questions.q3_interp import METHOD_ORDER
from analysis.render.markdown import MARKS, esc, table
from genlat.errors import OfflineError
from genlat.keys import Best, morph_key
from genlat.metrics.registry import STAMP_KEYS
from genlat.wandb_access import has_wandb_login

SECTION_TABLES = {"q2": "epoch_series", "q3": "interpolation"}  # genlat/tracking.py's final tables


def target(study: Study) -> tuple[str, str, str]:
    """(entity, project, run set filter) for the study's runs on the server: its W&B sweep, its group
    (an offline sweep is uploaded under its group by `genlat sweep --sync`), or else the runs' ids."""
    ids = [r.config["wandb_id"] for r in study.runs if r.config.get("wandb_id")]
    by_id = f"Metric('ID') in [{', '.join(_quote(i) for i in ids)}]" if ids else ""
    if study.wandb:
        where = study.wandb
        if where.sweep:
            return where.entity, where.project, f"Metric('Sweep') = {_quote(where.sweep)}"
        return where.entity, where.project, f"Metric('Group') = {_quote(where.group)}" if where.group else by_id
    configs = [r.config for r in study.runs]
    entity = next((c["wandb_entity"] for c in configs if c.get("wandb_entity")), "")
    project = next((c["wandb_project"] for c in configs if c.get("wandb_project")), "genlat")
    group = next((c["wandb_group"] for c in configs if c.get("wandb_group")), (study.sweep or {}).get("name"))
    return entity, project, f"Metric('Group') = {_quote(group)}" if group else by_id


def _quote(value) -> str:
    """A filter expression's literal: numbers as they are, text in single quotes."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def stamp_filter(stamp: tuple | None) -> str:
    """Only the runs measured under `stamp` (genlat logs it to each run's config)."""
    return " and ".join(f"Config({_quote(k)}) = {_quote(v)}" for k, v in zip(STAMP_KEYS, stamp or ()) if v is not None)


def group_keys(study: Study) -> list[str]:
    """W&B group-by keys: every setting that varies, as the report's own settings are grouped."""
    resolved = any(r.config.get("mixed_precision_resolved") for r in study.runs)  # what `auto` became
    return [
        f"config.{'mixed_precision_resolved' if k == 'mixed_precision' and resolved else k}"
        for k in setting_keys(study.runs)
    ]


def morph_keys(study: Study) -> list[str]:
    """The W&B keys of the runs' morph videos (genlat/tracking.py logs one per interpolation method at a
    run's end): the methods of the panels the runs drew, else those their configs name."""
    methods = {m for r in study.runs for _, m in r.panels} or {
        m for r in study.runs for m in str(r.config.get("interp_methods") or "").split(",") if m
    }
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    return [morph_key(m) for m in sorted(methods, key=lambda m: (order.get(m, len(order)), m))]


def build_report(doc: Document, study: Study, entity: str, project: str, filters: str):
    import wandb_workspaces.reports.v2 as wr

    def runset(stamp):
        where = " and ".join(f for f in (filters, stamp_filter(stamp)) if f)
        return wr.Runset(
            entity=entity, project=project, name=study.title[:100], filters=where, groupby=group_keys(study)
        )

    best = Best.of((study.sweep or {}).get("metric"))  # the runs' summary keeps its best epoch: {"min": value}

    def against_zn(k):  # one point per run: its summary value of `k` (the last epoch's, or the best's) at its zn
        if k == best.name:
            return wr.ScatterPlot(
                title=f"{k} (best epoch)", x=wr.Config("zn"), y=wr.SummaryMetric(f"{k}.{best.summary}")
            )
        return wr.ScatterPlot(title=k, x=wr.Config("zn"), y=wr.SummaryMetric(k))

    panels = {  # the keys each question plots (the metric registry's `plotted`)
        "q1": [against_zn(k) for k in numbers.plotted_keys(study.runs, "q1")],
        "q2": [wr.LinePlot(title=k, x="epoch", y=[k]) for k in numbers.plotted_keys(study.runs, "q2")],
        "q3": [against_zn(k) for k in numbers.plotted_keys(study.runs, "q3")],
    }
    if keys := morph_keys(study):  # each run's final morph, a GIF video per method, beside the panels' table
        morphs = wr.MediaBrowser(
            title="the morph at the final epoch", media_keys=keys, num_columns=len(keys), layout=wr.Layout(w=24, h=10)
        )
        panels["q3"].insert(0, morphs)
    blocks = [wr.P(line) for line in doc.meta]  # P and H1 are plain text; only Markdown needs escaping
    for section in doc.sections:
        blocks += [wr.H1(section.heading), wr.P(section.question)]
        grid = list(panels.get(section.name, []))
        if section.name in SECTION_TABLES:
            grid.insert(
                0, wr.WeavePanelSummaryTable(table_name=SECTION_TABLES[section.name], layout=wr.Layout(w=24, h=12))
            )
        if grid:
            blocks.append(wr.PanelGrid(runsets=[runset(section.stamp)], panels=grid))
        for b in section.blocks:  # in order: the answers read as paragraphs, the claims table as Markdown
            if isinstance(b, Para):
                blocks.append(
                    wr.P((f"{MARKS[b.verdict]} " if b.verdict in MARKS else "") + b.text)
                )  # a claim's verdict, marked
            elif isinstance(b, Heading):
                blocks.append(wr.H3(b.text))
            elif isinstance(b, Table):
                blocks.append(wr.MarkdownBlock(text=table(b)))
        if section.findings():
            blocks.append(
                wr.MarkdownBlock(text="**Findings**\n\n" + "\n".join(f"- {esc(i)}" for i in section.findings()))
            )
    return wr.Report(project=project, entity=entity, title=doc.title[:128], description=f"Source: {study.source}"[:1000],
                     blocks=blocks, width="fluid")  # fmt: skip


def publish(doc: Document, study: Study) -> str:
    if not has_wandb_login():
        raise OfflineError("--publish: publishing a W&B Report needs a login: run `wandb login` (or set WANDB_API_KEY), "
                           "then --publish again; the local report above is complete")  # fmt: skip
    entity, project, filters = target(study)
    try:
        if not entity:
            import wandb

            entity = wandb.Api(timeout=30).default_entity
        report = build_report(doc, study, entity, project, filters)
        report.save()
        url = report.url
    except Exception as e:  # network, permissions, an unknown project: one line, nothing half-saved locally
        raise OfflineError(f"--publish: W&B refused or could not be reached ({type(e).__name__}: {e})") from None
    # wandb-workspaces puts the title into the URL as it is: a '/' in it ("W&B me/genlat") adds a path
    # segment that neither W&B's app nor Report.from_url can read. The report's id is what matters.
    slug = re.sub(r"[^A-Za-z0-9]+", "-", report.title).strip("-") or "report"
    return f"{url.split('/reports/', 1)[0]}/reports/{slug}--{report.id}"
