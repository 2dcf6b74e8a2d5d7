"""The report's W&B path end to end, with the real client against the local W&B server: two tiny
genlat runs (zn 8 and 16) logged online under one group, as `genlat sweep --sync` uploads a sweep;
`genlat report --wandb ENTITY/PROJECT --group GROUP` gives the same claims table as `genlat report`
of the run folders and the Q3 panels from the interpolation table's artifact, and `--publish` stores
one report whose spec has the answer sections, Q1 plotted against zn and run sets of this study's
runs only (another group's run in the same project stays out)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analysis.report import main as report_main
from tests.helpers import ROOT, TINY, child_env
from tests.test_wandb_report import grids_by_heading, panels, saved_spec

PROJECT, GROUP = "report-e2e", "sweep-zn-e2e-1f3a"


def summary_keys(summary: dict) -> set[str]:
    """The keys W&B's charts offer: a nested value's (eval/fd: {"min": ...}) as eval/fd.min."""
    return set(summary) | {f"{k}.{sub}" for k, v in summary.items() if isinstance(v, dict) for sub in v}


def claims(md: str) -> str:
    return md.split("## The study's claims, tested")[1].split("\n## ")[0]


@pytest.mark.slow  # 40-90 s here: two tiny runs with evaluation, wandb online, three reports' worth of figures
def test_report_of_online_runs_and_its_published_spec(wandb_server, tmp_path):
    runs = tmp_path / "runs"
    env = child_env(**wandb_server.env(), WANDB_DIR=str(tmp_path / "wandb-dir"), OMP_NUM_THREADS="1")
    flags = [
        *TINY,
        "--epochs",
        "1",
        "--eval_every",
        "1",
        "--out",
        str(runs),
        "--wandb_project",
        PROJECT,
        "--wandb_group",
        GROUP,
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "train.py", *flags, "--zn", str(zn), "--name", f"zn{zn}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for zn in (8, 16)
    ]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out[-3000:]
    entity = wandb_server.store.entity
    ours = {r.name for r in wandb_server.store.runs.values() if r.project == PROJECT}
    assert len(ours) == 2 and all(wandb_server.store.runs[(entity, PROJECT, i)].state == "finished" for i in ours)
    other = wandb_server.store.run(entity, PROJECT, "othersweep1")  # another sweep's run in the same project
    other.group, other.state = "sweep-zn-other", "finished"

    remote, local = tmp_path / "remote", tmp_path / "local"
    assert report_main(["--wandb", f"{entity}/{PROJECT}", "--group", GROUP, "--out", str(remote), "--publish"]) == 0
    assert report_main(["--runs", str(runs / "zn8"), str(runs / "zn16"), "--out", str(local)]) == 0
    md, local_md = (remote / "report.md").read_text(), (local / "report.md").read_text()
    assert "2 run(s) with results in 2 setting(s) (1 seed(s) each); 0 problem(s)" in md
    assert claims(md) == claims(local_md) and "| claim |" in claims(md)
    assert "Measurement stamp of every run: feature space shapes-factornet-32px@" in md  # read from summary/config
    figures = {p.name for p in (remote / "figures").glob("q3_interp_*.png")}
    assert figures == {"q3_interp_zn-8.png", "q3_interp_zn-16.png"}  # the panels, from the table's artifact

    view, spec = saved_spec(wandb_server)
    assert view["project"] == PROJECT
    grids = grids_by_heading(spec)
    assert {
        "Answers",
        "The study's claims, tested",
        "Q1: latent size",
        "Q2: training over time",
        "Q3: interpolation",
    } <= set(grids)
    (q1,) = grids["Q1: latent size"]
    assert {p["config"]["xAxis"] for p in panels(q1)} == {"config:zn.value"}
    plotted = {
        p["config"]["yAxis"].removeprefix("summary:")
        for g in grids["Q1: latent size"] + grids["Q3: interpolation"]
        for p in panels(g)
        if p["viewType"] == "Scatter Plot"
    }
    for i in ours:  # every plotted number is in each run's summary: no empty plot
        assert plotted <= summary_keys(wandb_server.store.runs[(entity, PROJECT, i)].summary)
    (media,) = [p for g in grids["Q3: interpolation"] for p in panels(g) if p["viewType"] == "Media Browser"]
    assert media["config"]["mediaKeys"] == ["interpolation_morph/slerp", "interpolation_morph/lerp"]
    for i in ours:  # and every morph the media browser shows is a video each run uploaded: no empty panel
        run = wandb_server.store.runs[(entity, PROJECT, i)]
        for key in media["config"]["mediaKeys"]:
            assert run.summary[key]["_type"] == "video-file" and run.summary[key]["path"] in run.files, key
    for heading in ("Q1: latent size", "Q2: training over time", "Q3: interpolation"):
        (runset,) = grids[heading][0]["runSets"]
        assert runset["filters"]["filters"] == [
            {"key": {"section": "run", "name": "group"}, "op": "=", "value": GROUP, "disabled": False}
        ]
        assert runset["project"]["name"] == PROJECT
    # what that filter selects on the server: this study's two runs, not the other sweep's
    from wandb import Api

    selected = {r.id for r in Api().runs(f"{entity}/{PROJECT}", filters={"group": GROUP})}
    assert selected == ours and json.loads(view["spec"])["width"] == "fluid"
