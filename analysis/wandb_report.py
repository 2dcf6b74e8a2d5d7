"""`--publish`: the same Document as a W&B Report (wandb-workspaces, reports v2): a run set filtered
to the sweep and grouped by config.zn, line plots of the eval metrics, the merged epoch-series and
interpolation tables, and each section's findings as Markdown. `build_report` only builds the
objects (tests inspect them offline); `publish` checks the login first, then saves."""

from __future__ import annotations

from analysis import numbers as N
from analysis.document import Document, Heading, Para, Table
from analysis.render_markdown import esc, table
from analysis.study import Study
from genlat.errors import OfflineError
from genlat.wandb_access import has_wandb_login

SECTION_TABLES = {"q2": "epoch_series", "q3": "interpolation"}  # genlat/tracking.py's final tables


def target(study: Study) -> tuple[str, str, str]:
    """(entity, project, run set filter) for the study's runs on the server."""
    if study.wandb:
        entity, project, sweep_id = study.wandb
        if sweep_id:
            return entity, project, f"Metric('Sweep') = '{_quote(sweep_id)}'"
        return entity, project, ""
    configs = [r.config for r in study.runs]
    entity = next((c["wandb_entity"] for c in configs if c.get("wandb_entity")), "")
    project = next((c["wandb_project"] for c in configs if c.get("wandb_project")), "genlat")
    # Offline sweeps upload their trials grouped by the sweep's name (genlat sweep --sync).
    group = next((c["wandb_group"] for c in configs if c.get("wandb_group")), (study.sweep or {}).get("name"))
    return entity, project, f"Metric('Group') = '{_quote(group)}'" if group else ""


def _quote(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("'", "\\'")


def build_report(doc: Document, study: Study, entity: str, project: str, filters: str):
    import wandb_workspaces.reports.v2 as wr

    def runset():
        return wr.Runset(entity=entity, project=project, name=study.title[:100], filters=filters, groupby=["config.zn"])

    keys = N.eval_keys(study.runs)
    panels = {
        "q1": [wr.LinePlot(title=k, x="epoch", y=[k]) for k in keys if k in N.MAIN and not k.startswith("eval/interp")],
        "q2": [wr.LinePlot(title=k, x="epoch", y=[k]) for k in N.training_keys(study.runs)],
        "q3": [wr.LinePlot(title=k, x="epoch", y=[k]) for k in keys if k.startswith("eval/interp_cv") or k == "eval/ppl"],
    }
    blocks = [wr.P(line) for line in doc.meta]  # P and H1 are plain text; only Markdown needs escaping
    for section in doc.sections:
        blocks += [wr.H1(section.title), wr.P(section.question)]
        grid = list(panels.get(section.key, []))
        if section.key in SECTION_TABLES:
            grid.insert(0, wr.WeavePanelSummaryTable(table_name=SECTION_TABLES[section.key], layout=wr.Layout(w=24, h=12)))
        if grid:
            blocks.append(wr.PanelGrid(runsets=[runset()], panels=grid))
        for b in section.blocks:  # in order: the answers read as paragraphs, the claims table as Markdown
            if isinstance(b, Para):
                blocks.append(wr.P(b.text))
            elif isinstance(b, Heading):
                blocks.append(wr.H3(b.text))
            elif isinstance(b, Table):
                blocks.append(wr.MarkdownBlock(text=table(b)))
        if section.findings():
            blocks.append(wr.MarkdownBlock(text="**Findings**\n\n" + "\n".join(f"- {esc(i)}" for i in section.findings())))
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
    except Exception as e:  # network, permissions, an unknown project: one line, nothing half-saved locally
        raise OfflineError(f"--publish: W&B refused or could not be reached ({type(e).__name__}: {e})") from None
    return report.url
