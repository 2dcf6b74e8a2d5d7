"""`genlat report --publish` against the local W&B server (tests/wandb_server) with the real, unpatched
wandb-workspaces: the server receives one view, and its spec (the JSON W&B's app renders) has the
answer sections, the Q1 numbers plotted against zn, run sets grouped by every setting that varies and
filtered to the study's runs, and, with two measurement stamps, plots and tables in every group."""

from __future__ import annotations

import json
from pathlib import Path

from analysis import build
from analysis.load.study import load_loose
from analysis.render import wandb as wandb_report
from tests.test_report_stamps import OLD, STAMPED, write_run

GROUP = "sweep-zn-lr-2a7c"


def make_runs(root: Path, server, stamp_of=lambda zn, lr: STAMPED) -> list[Path]:
    """zn 8/16 x lr 1e-4/2e-4, two seeds each, uploaded under one group; each run exists on the server
    (so has its project), as a logged run would."""
    dirs = []
    for zn in (8, 16):
        for lr in (1e-4, 2e-4):
            for seed in (0, 1):
                run_id = f"r{zn}x{int(lr * 1e4)}s{seed}"
                config = {
                    "zn": zn,
                    "lr": lr,
                    "seed": seed,
                    "wandb_id": run_id,
                    "wandb_group": GROUP,
                    "wandb_project": "genlat",
                    "interp_methods": "slerp,lerp",
                }
                lines = [
                    {
                        **stamp_of(zn, lr),
                        "eval/fd": zn * lr * 1e5 + seed + e,
                        "eval/precision": 0.5,
                        "eval/interp_cv_slerp": 0.2,
                        "epoch/loss_g": 1.0 / e,
                    }
                    for e in (1, 2)
                ]
                dirs.append(write_run(root, run_id, config, lines))
                server.store.run(server.store.entity, "genlat", run_id).group = GROUP
    return dirs


def saved_spec(server) -> tuple[dict, dict]:
    (view,) = server.store.views.values()
    return view, json.loads(view["spec"])


def grids_by_heading(spec: dict) -> dict[str, list[dict]]:
    """H1 text -> the panel grids under it."""
    out, heading = {}, None
    for block in spec["blocks"]:
        if block["type"] == "heading" and block["level"] == 1:
            heading = "".join(c.get("text", "") for c in block["children"])
            out[heading] = []
        elif block["type"] == "panel-grid":
            out[heading].append(block["metadata"])
    return out


def panels(grid: dict) -> list[dict]:
    return grid["panelBankSectionConfig"]["panels"]


def test_publish_stores_one_view_with_plots_against_zn_grouped_by_every_varying_setting(wandb_server, tmp_path):
    import wandb_workspaces.reports.v2 as wr

    study = load_loose(make_runs(tmp_path / "runs", wandb_server))
    assert [s.label for s in study.settings] == [
        "zn=8 lr=0.0001",
        "zn=8 lr=0.0002",
        "zn=16 lr=0.0001",
        "zn=16 lr=0.0002",
    ]
    doc = build.build(study, tmp_path / "figs")
    url = wandb_report.publish(doc, study)
    view, spec = saved_spec(wandb_server)
    assert view["type"] == "runs" and view["project"] == "genlat" and view["displayName"] == doc.title
    grids = grids_by_heading(spec)
    assert list(grids) == [s.heading for s in doc.sections]  # every section, in order
    for heading in ("Q1: latent size", "Q2: training over time", "Q3: interpolation"):
        for grid in grids[heading]:
            (runset,) = grid["runSets"]
            assert runset["filters"]["filters"] == [
                {"key": {"section": "run", "name": "group"}, "op": "=", "value": GROUP, "disabled": False}
            ]
            assert runset["grouping"] == [
                {"section": "config", "name": "zn.value"},
                {"section": "config", "name": "lr.value"},
            ]
    (q1,) = grids["Q1: latent size"]
    assert {(p["viewType"], p["config"]["xAxis"], p["config"]["yAxis"]) for p in panels(q1)} == {
        (
            "Scatter Plot",
            "config:zn.value",
            "summary:eval/fd.min",
        ),  # the summary keeps the best epoch's FD: {"min": value}
        ("Scatter Plot", "config:zn.value", "summary:eval/precision"),
    }
    (q2,) = grids["Q2: training over time"]
    lines = {
        p["config"]["metrics"][0]: p["config"]["xAxis"] for p in panels(q2) if p["viewType"] == "Run History Line Plot"
    }
    assert lines == {"eval/fd": "epoch", "eval/precision": "epoch", "epoch/loss_g": "epoch"}
    (q3,) = grids["Q3: interpolation"]
    assert ("Scatter Plot", "summary:eval/interp_cv_slerp") in {
        (p["viewType"], p["config"].get("yAxis")) for p in panels(q3)
    }
    assert (
        sum(p["viewType"] == "Weave" for g in (q2, q3) for p in panels(g)) == 2
    )  # the epoch-series and interpolation tables
    (media,) = [p for p in panels(q3) if p["viewType"] == "Media Browser"]  # the runs' morph videos, by key
    assert media["config"]["mediaKeys"] == ["interpolation_morph/slerp", "interpolation_morph/lerp"], media
    # The URL genlat prints opens the report: Report.from_url reads the view back (SpecificReport).
    back = wr.Report.from_url(url)
    assert back.title == doc.title and [b.text for b in back.blocks if isinstance(b, wr.H1)] == [
        s.heading for s in doc.sections
    ]


def test_two_stamps_give_each_group_its_plots_tables_and_runs(wandb_server, tmp_path):
    """The report split by measurement stamp (sections g1-q1, g2-q1, ...) still has its plots and
    tables, and each group's run set holds only the runs of its stamp."""
    dirs = make_runs(tmp_path / "runs", wandb_server, stamp_of=lambda zn, lr: STAMPED if lr < 1.5e-4 else OLD)
    study = load_loose(dirs)
    doc = build.build(study, tmp_path / "figs")
    assert {s.anchor for s in doc.sections} >= {"g1-q1", "g2-q1", "g1-q3", "g2-q3"}
    assert {(s.name, s.group.number) for s in doc.sections if s.group} >= {("q1", 1), ("q1", 2), ("q3", 1), ("q3", 2)}
    entity, project, filters = wandb_report.target(study)
    wandb_report.build_report(doc, study, wandb_server.store.entity, project, filters).save()
    _, spec = saved_spec(wandb_server)
    grids = grids_by_heading(spec)
    for section in doc.sections:
        if section.name in ("q1", "q2", "q3"):
            (grid,) = grids[section.heading]
            assert panels(grid), section.heading
            (runset,) = grid["runSets"]
            where = {(f["key"]["name"], f["op"], f["value"]) for f in runset["filters"]["filters"]}
            assert ("eval/feature_space", "=", section.stamp[0]) in where and ("group", "=", GROUP) in where, (
                section.heading
            )
    tables = [
        p
        for s in doc.sections
        if s.name in ("q2", "q3")
        for p in panels(grids[s.heading][0])
        if p["viewType"] == "Weave"
    ]
    assert len(tables) == 4  # the epoch-series and interpolation tables, in each of the two groups
