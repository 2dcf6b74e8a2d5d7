"""`genlat report` on a real tiny sweep (made by `genlat sweep`, one trial of each zn failing), on
loose run directories, and through a fake W&B API: the files, the three sections, findings that
carry the runs' own numbers, escaping, the failure named, --publish offline, the W&B Report's shape."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from accelerate.state import AcceleratorState
from markupsafe import escape

from analysis.report import main as report_main
from genlat.cli import train_main
from genlat.sweep.spec import load_spec
from genlat.sweep.state import SweepState, new_trial, refresh_from_run
from tests.helpers import ROOT, TINY_PARAMS, metrics_rows, run_sweep, sweep_file

EPOCHS = 2


EVIL = "sw<img src=x onerror=alert(1)>&"  # a folder name a report must show as text, never as markup
TRIALS = [  # (zn, seed, dataset): zn=8 twice (seeds pool), zn=16 once, one trial whose data is missing
    (8, 0, "shapes"), (8, 1, "shapes"), (16, 0, "shapes"), (16, 1, "folder:{root}/nonexistent"),
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory, genlat_cache):
    """A sweep DIR as `genlat sweep` leaves it: its own state code (sweep.json, trial names) and real
    runs of train.py, in-process to keep the default suite fast; one trial fails (exit 3). The same
    through the real runner: test_genlat_sweep_then_report (slow)."""
    root = tmp_path_factory.mktemp("report") / EVIL
    d = root / "sweep"
    with pytest.MonkeyPatch.context() as mp:  # the isolation conftest gives each test, for the whole module
        mp.setenv("WANDB_MODE", "disabled")
        mp.setenv("GENLAT_OFFLINE", "1")
        mp.setenv("GENLAT_CACHE", str(genlat_cache))
        spec = load_spec(sweep_file(tmp_path_factory.mktemp("spec") / "tiny-report.yaml", zn=(8, 16),
                                    params={"seed": {"values": [0, 1]}, "eval_every": 1, "epochs": EPOCHS}))  # fmt: skip
        state = SweepState(d)
        state.create_or_check(spec)
        for i, (zn, seed, dataset) in enumerate(TRIALS):
            dataset = dataset.format(root=root)
            params = {**TINY_PARAMS, "zn": zn, "seed": seed, "eval_every": 1, "epochs": EPOCHS, "dataset": dataset}
            trial = new_trial(i, params, ["zn", "seed"], None)
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                rc = train_main(
                    [
                        *(f"--{k}={v}" for k, v in params.items()),
                        "--eval_samples=32",
                        "--out",
                        str(state.runs),
                        "--name",
                        trial["name"],
                        "--wandb_group",
                        spec.name,
                    ]
                )
            trial.update(
                state="finished" if rc == 0 else "failed",
                exit_code=rc,
                attempts=1,
                error=err.getvalue().strip().splitlines()[-1],
            )
            refresh_from_run(trial, state.run_dir(trial), spec.best)
            with state.locked() as data:
                data["trials"].append(trial)
            AcceleratorState._reset_state(reset_partial_state=True)
    return d


@pytest.fixture(scope="module")
def sweep_report(tiny_sweep):
    proc = subprocess.run(
        [sys.executable, "-m", "genlat", "report", str(tiny_sweep)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return tiny_sweep / "report", proc


def test_sweep_report_files_sections_and_inline_images(sweep_report):
    out, proc = sweep_report
    assert f"report: {out / 'report.html'}" in proc.stdout
    html = (out / "report.html").read_text()
    for key, title in (("q1", "Q1: latent size"), ("q2", "Q2: training over time"), ("q3", "Q3: interpolation")):
        assert f'<section id="{key}"><h2>{title}</h2>' in html
    pngs = sorted(p.name for p in (out / "figures").iterdir() if p.suffix in (".png", ".gif"))
    assert {
        "q1_comparison.png",
        "q1_metrics.png",
        "q2_curves.png",
        "q2_series_zn-8.png",
        "q3_interp_zn-16.png",
        "q3_morph_zn-8.gif",
    } <= set(pngs)
    srcs = re.findall(r'<img src="([^"]*)"', html)
    assert len(srcs) == len(pngs) and all(
        s.startswith(("data:image/png;base64,", "data:image/gif;base64,")) for s in srcs
    )  # nothing external
    from PIL import Image

    with Image.open(out / "figures" / "q3_morph_zn-8.gif") as gif:  # the morph, forward and back: 2 × steps − 2 frames
        assert gif.is_animated and gif.n_frames == 2 * TINY_PARAMS["interp_steps"] - 2
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    md = (out / "report.md").read_text()
    for png in pngs:
        assert f"](figures/{png})" in md


def _finals(sweep: Path) -> dict[int, list[dict]]:
    """zn -> the final metrics line of each of its runs, read straight from metrics.jsonl."""
    out: dict[int, list[dict]] = {}
    for run in sorted((sweep / "runs").iterdir()):
        if (run / "metrics.jsonl").exists():
            out.setdefault(json.loads((run / "config.json").read_text())["zn"], []).append(metrics_rows(run)[-1])
    return out


def _fd_sentence(sweep: Path) -> str:
    """The Q1 finding on the FD, written from metrics.jsonl: its mean per zn in the appendix's words
    (zn=16 has one seed, so no difference can be tested and no zn is ranked)."""
    from analysis.stats import describe

    fd = {zn: [r["eval/fd"] for r in rows] for zn, rows in _finals(sweep).items()}
    return f"| Fréchet distance (lower is better) <sub>eval/fd</sub> | {describe(fd[8])} | {describe(fd[16])} |"


def test_findings_carry_the_runs_numbers(sweep_report, tiny_sweep):
    from analysis.stats import describe

    out, _ = sweep_report
    md = (out / "report.md").read_text().replace("\\", "")
    finals = _finals(tiny_sweep)
    assert {zn: len(rows) for zn, rows in finals.items()} == {8: 2, 16: 1}
    assert _fd_sentence(tiny_sweep) in md and "is best" not in md  # one seed at zn=16: nothing called, nothing ranked
    assert (
        "Too few seeds: no pair of settings has 2+ seeds each, so no difference between settings can be called." in md
    )
    # the appendix pools zn=8's two seeds (n=2) and shows zn=16's one value alone; zn=16's single seed is said
    fd = {zn: [r["eval/fd"] for r in rows] for zn, rows in finals.items()}
    assert f"| Fréchet distance (lower is better) <sub>eval/fd</sub> | {describe(fd[8])} | {describe(fd[16])} |" in md
    assert (
        describe(fd[8]).endswith("(n=2)")
        and " ± " in describe(fd[8])
        and "n=" not in describe(fd[16])
        and "One seed for zn=16" in md
    )
    assert "Plateau rule:" in md
    g = {
        zn: json.loads(next((tiny_sweep / "runs").glob(f"t*-zn{zn}-seed0")).joinpath("config.json").read_text())[
            "g_params"
        ]
        for zn in (8, 16)
    }
    assert f"Capacity confound: G has {g[8]:,} parameters at zn=8 and {g[16]:,} at zn=16" in md


def test_failed_trial_named_and_strings_escaped(sweep_report, tiny_sweep):
    out, _ = sweep_report
    html = (out / "report.html").read_text()
    (failed,) = [t for t in json.loads((tiny_sweep / "sweep.json").read_text())["trials"] if t["state"] == "failed"]
    assert "does not exist" in failed["error"] and EVIL in failed["error"]
    assert f"{failed['name']} (failed): {escape(failed['error'])}" in html  # escaped by the template engine
    assert "1 problem(s)" in html
    assert "<img src=x" not in html and escape(EVIL) in html  # the folder name from the path and the error, as text
    md = (out / "report.md").read_text()
    assert "<img src=x" not in md and "&lt;img src=x onerror=alert(1)&gt;&amp;" in md


def test_loose_runs(tiny_sweep, tmp_path):
    out = tmp_path / "loose"
    dirs = sorted(str(p) for p in (tiny_sweep / "runs").iterdir() if (p / "metrics.jsonl").exists())
    assert report_main(["--runs", *dirs, "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "3 run(s) with results in 2 setting(s)" in html and "0 problem(s)" in html
    assert len(re.findall(r'<img src="data:image/(png|gif);base64,', html)) == len(
        list((out / "figures").glob("*.[pg][ni][gf]"))
    )


def test_two_epochs_make_no_plateau_claim():
    from analysis.questions.q2_time import plateau_sentence

    text = plateau_sentence("zn=8", "eval/fd", [(1, 900.0), (2, 400.0)], "min")
    assert "too few to say when improvement stops" in text
    assert "plateaus at epoch 2" in plateau_sentence(
        "zn=8", "eval/fd", [(1, 900.0), (2, 400.0), (3, 395.0), (4, 398.0)], "min"
    )
    assert "unstable" in plateau_sentence("zn=8", "eval/fd", [(1, 900.0), (2, 400.0), (3, 800.0)], "min")
    assert "still improving" in plateau_sentence("zn=8", "eval/fd", [(1, 900.0), (2, 600.0), (3, 300.0)], "min")


def test_best_setting_describes_and_leaves_calling_to_the_pairwise_rule():
    from analysis.questions.q1_latent import best_setting, collapsed

    apart = best_setting("eval/fd", {"zn=50": [100.0, 102.0], "zn=500": [200.0, 204.0]})
    assert (
        apart == "eval/fd: zn=50 is best (101 ± 13 (n=2)), 50% lower than the runner-up zn=500 (202)."
    )  # ±: the 95 % half-width
    near_zero = best_setting("eval/precision", {"zn=50": [0.6], "zn=500": [0.0005]})
    assert "0.600 higher than the runner-up" in near_zero and "%" not in near_zero  # not "119900 %"
    assert best_setting("eval/feature_space_size", {"a": [1.0], "b": [2.0]}) is None  # no known better side: no claim
    assert collapsed(
        {"zn=50": {"eval/precision": 0.0, "eval/recall": 0.0}, "zn=100": {"eval/precision": 0.1, "eval/recall": 0.0}}
    ).startswith("zn=50: precision = recall = 0")


def test_bad_sources_are_one_line_errors(tmp_path, capsys):
    assert report_main([str(tmp_path / "nope")]) == 2
    assert report_main(["--runs", str(tmp_path)]) == 2
    assert report_main([]) == 2
    err = capsys.readouterr().err
    assert err.count("genlat: error:") == 3 and "Traceback" not in err


def test_publish_offline_writes_the_report_then_exits_69(tiny_sweep, tmp_path, capsys):
    out = tmp_path / "pub"
    assert report_main([str(tiny_sweep), "--out", str(out), "--publish"]) == 69
    assert (out / "report.html").exists()
    err = capsys.readouterr().err
    assert "publishing a W&B Report needs a login: run `wandb login`" in err


def test_wandb_report_structure(tiny_sweep, tmp_path):
    import wandb_workspaces.reports.v2 as wr

    from analysis import build
    from analysis.load.study import load_sweep
    from analysis.render import wandb as wandb_report
    from analysis.render.markdown import esc

    study = load_sweep(tiny_sweep)
    doc = build.build(study, tmp_path / "figs")
    entity, project, filters = wandb_report.target(study)
    assert project == "genlat" and filters == "Metric('Group') = 'tiny-report'"
    report = wandb_report.build_report(doc, study, "me", project, filters)  # built, never saved
    assert [b.text for b in report.blocks if isinstance(b, wr.H1)] == ["Answers", "The study's claims, tested", "The runs", "Q1: latent size",
                                                                     "Q2: training over time", "Q3: interpolation", "Appendix: every metric"]  # fmt: skip
    texts = [b.text for b in report.blocks if isinstance(b, (wr.H3, wr.P, wr.MarkdownBlock))]
    assert [b.text.split(",")[0] for b in report.blocks if isinstance(b, wr.H3)] == [
        "Q1",
        "Q2",
        "Q3",
    ]  # the answers' questions
    answers = next(i for i, t in enumerate(texts) if t.startswith("Q1, latent size"))
    claims = next(i for i, t in enumerate(texts) if t.startswith("| claim | measure |"))
    assert answers < claims and "Q1a: As zn grows" in texts[claims] and "eval/" not in " ".join(texts[answers:claims])
    assert any(
        t.startswith(("✅ Q1a", "❌ Q1a", "❔ Q1a", "➖ Q1a")) for t in texts[answers:claims]
    )  # the verdict marked on W&B too
    grids = [b for b in report.blocks if isinstance(b, wr.PanelGrid)]
    assert all(
        rs.filters == filters and rs.groupby == ["config.zn"] and rs.project == "genlat"
        for g in grids
        for rs in g.runsets
    )
    tables = [p.table_name for g in grids for p in g.panels if isinstance(p, wr.WeavePanelSummaryTable)]
    assert tables == ["epoch_series", "interpolation"]
    lines = {y for g in grids for p in g.panels if isinstance(p, wr.LinePlot) for y in p.y}
    assert {"eval/fd", "eval/kid", "eval/precision", "eval/recall", "epoch/loss_g"} <= lines  # Q2: against epoch
    q1 = grids[0].panels  # Answers, claims and the runs have no grid: Q1's is the first
    assert {(p.x.name, p.y.name) for p in q1} >= {
        ("zn", "eval/fd"),
        ("zn", "eval/precision"),
    }  # Q1: the final numbers against zn
    assert all(isinstance(p, wr.ScatterPlot) and isinstance(p.x, wr.Config) for p in q1)
    md = [b.text for b in report.blocks if isinstance(b, wr.MarkdownBlock)]
    assert [t.split("\n")[0] for t in md] == [  # in order: the claims table, the runs and their findings, Q1-Q3's findings, the appendix
        "| claim | measure | zn=8 | zn=16 | test | estimate (95 % interval) | p (Holm) | verdict | why | would resolve it | budget |", "| run | setting | seed | state | epoch | G params | D params |",
        "**Findings**", "**Findings**", "**Findings**", "**Findings**", "| metric | zn=8 | zn=16 |"]  # fmt: skip
    findings = {s.name: s.findings() for s in doc.sections if s.findings()}
    assert [t.split("\n\n", 1)[1] for t in md if t.startswith("**Findings**")] == [
        "\n".join(f"- {esc(i)}" for i in findings[name]) for name in ("runs", "q1", "q2", "q3")
    ]  # every finding, as the report has it
    assert not any("is best" in f for f in findings["q1"])  # nothing called: nothing ranked


class FakeFile:
    def __init__(self, name, source: Path):
        self.name, self.source = name, source

    def download(self, root=".", replace=False, exist_ok=False):
        dest = Path(root) / self.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.source.read_bytes())


STAMP = ("eval/feature_space", "eval/samples", "eval/metric_version")


class FakeRun:
    """What wandb.Api().runs() yields for a real run directory, as wandb 0.31 logs it (genlat/tracking.py):
    history holds only numbers and media (the stamp's feature space, a string, is in config and summary);
    the final `interpolation` table's file in the run says "Image" in each picture's cell, and the
    cells with their pictures are in the artifact run-<id>-interpolation."""

    entity, project = "me", "genlat"

    def __init__(self, run_dir: Path, table_dir: Path):
        config = json.loads((run_dir / "config.json").read_text())
        self.id, self.name, self.state = config["wandb_id"], config["run_name"], "finished"
        self.files, history = {}, []
        rows = metrics_rows(run_dir)
        stamp = {k: rows[-1][k] for k in STAMP}
        self.config = {**config, **stamp}  # Tracker.config(evaluator.stamp())
        for row in rows:
            name = f"media/images/samples_{row['epoch']}.png"
            self.files[name] = run_dir / row["sample_grid"]
            history.append({"train/step": 1, "train/loss_g": 1.0})  # rows without an epoch are ignored
            numbers = {k: v for k, v in row.items() if "/" in k and isinstance(v, (int, float))}
            history.append({"epoch": row["epoch"], **numbers, "samples": {"_type": "image-file", "path": name}})
        self._history = history
        cells = []
        self.artifact_files = {}
        for png in sorted((run_dir / "interpolation").glob("epoch_*_pair*.png")):
            epoch, method, pair = re.match(r"epoch_(\d+)_([a-z-]+)_pair(\d+)\.png", png.name).groups()
            path = f"media/images/{png.stem[-8:]}0a1b/{png.name}"  # wandb: media/images/<hash prefix>/<name>
            self.artifact_files[path] = png.read_bytes()
            cells.append(
                [int(epoch), config["zn"], method, int(pair), {"_type": "image-file", "format": "png", "path": path}]
            )
        columns = ["epoch", "zn", "method", "pair", "panel"]
        self.artifact_files["interpolation.table.json"] = json.dumps(
            {"_type": "table", "columns": columns, "data": cells}
        ).encode()
        table = table_dir / f"{self.id}.table.json"
        table.write_text(json.dumps({"columns": columns, "data": [[*c[:4], "Image"] for c in cells]}))
        self.files["media/table/interpolation_2_0123abcd.table.json"] = table
        self.summary = self.summary_metrics = {**stamp, "interpolation": {"_type": "table-file", "path": "media/table/interpolation_2_0123abcd.table.json",
                        "_latest_artifact_path": "wandb-client-artifact://x:latest/interpolation.table.json", "nrows": len(cells)}}  # fmt: skip

    def scan_history(self):
        return iter(self._history)

    def file(self, name):
        return FakeFile(name, self.files[name])


class FakeArtifact:
    def __init__(self, files: dict[str, bytes]):
        self.files = files

    def download(self, root=None):
        for name, data in self.files.items():
            (Path(root) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(root) / name).write_bytes(data)
        return root


class FakeApi:
    def __init__(self, runs):
        self._runs = runs
        self.filters = []

    def runs(self, path, filters=None):
        assert path == "me/genlat"
        self.filters.append(filters)
        return [
            r for r in self._runs if not filters or all(r.config.get("wandb_" + k) == v for k, v in filters.items())
        ]

    def artifact(self, name):
        run = next(r for r in self._runs if name == f"me/genlat/run-{r.id}-interpolation:latest")
        return FakeArtifact(run.artifact_files)


def test_wandb_source_with_a_fake_api(tiny_sweep, tmp_path):
    from PIL import Image

    from analysis import build
    from analysis.load import stamps
    from analysis.load.runs import load_run
    from analysis.load.study import load_loose
    from analysis.load.wandb import load_wandb

    run_dirs = [p for p in sorted((tiny_sweep / "runs").iterdir()) if (p / "metrics.jsonl").exists()]
    study = load_wandb("me/genlat", tmp_path / "cache", api=FakeApi([FakeRun(p, tmp_path) for p in run_dirs]))
    assert [s.label for s in study.settings] == ["zn=8", "zn=16"]
    local = load_run(run_dirs[0])
    remote = next(r for r in study.runs if r.name == local.name)
    assert remote.series("eval/fd") == local.series("eval/fd") and sorted(remote.samples) == sorted(local.samples)
    assert set(remote.panels) == set(local.panels)  # the pair rows, from the table's artifact, stacked back into panels
    for key, png in local.panels.items():  # the same pictures (the local panel has a border between the pairs)
        assert Image.open(remote.panels[key]).width == Image.open(png).width
    assert (
        stamps.run_stamp(remote) == stamps.run_stamp(local) and stamps.run_stamp(local)[0]
    )  # the feature space's name too
    doc = build.build(study, tmp_path / "figs")
    assert len(list((tmp_path / "figs").glob("q3_interp_*.png"))) == 2
    # read through W&B, the same runs give the local report's findings and claims, number for number
    local_doc = build.build(load_loose(run_dirs), tmp_path / "local-figs")

    def answers(d):
        return {s.name: s.findings() for s in d.sections if s.name in ("q1", "q2", "q3")}, \
            next(s for s in d.sections if s.name == "claims").blocks[0].rows  # fmt: skip

    assert answers(doc) == answers(local_doc)


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]  # fmt: skip


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail("chromium is missing: .ci/run installs it (apt-get install -y chromium)")
    return found


def test_report_opens_in_a_real_browser(sweep_report, tmp_path):
    """Headless Chromium loads report.html from disk (no network): every image decodes, the three
    sections are there, and the screenshot is a page, not a blank."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (CI installs it and fails instead of skipping)")
    out, _ = sweep_report
    url = (out / "report.html").resolve().as_uri()
    base = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*base, "--virtual-time-budget=10000", "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    check = re.search(r'id="image-check" data-loaded="(\d+)" data-total="(\d+)"', dom.stdout)
    assert check, "the page's load script did not run"
    loaded, total = map(int, check.groups())
    assert (
        total == len(list((out / "figures").glob("*.[pg][ni][gf]"))) and loaded == total
    )  # the PNGs and the morph GIFs
    for key in ("runs", "q1", "q2", "q3"):
        assert f'<section id="{key}">' in dom.stdout
    shot = tmp_path / "shot.png"
    run = subprocess.run(
        [*base, f"--screenshot={shot}", "--window-size=1280,2000", url], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.shape == (2000, 1280)
    assert (pixels < 128).mean() > 0.01 and pixels.std() > 20  # text and figures, not an empty white page


@pytest.mark.slow
def test_genlat_sweep_then_report(tmp_path):
    """The real runner end to end: `genlat sweep` (one zn's trial fails: its dataset folder is missing),
    then `genlat report`, which names the failure and compares the rest."""
    params = {
        "epochs": 2,
        "eval_every": 1,
        "eval_samples": 32,
        "dataset": {"values": ["shapes", f"folder:{tmp_path}/nonexistent"]},
    }
    d = tmp_path / "sweep"
    done = run_sweep(
        [str(sweep_file(tmp_path / "e2e.yaml", params=params)), "--dir", str(d), "--workers", "2", "--retries", "0"]
    )
    assert done.returncode == 0, done.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "genlat", "report", str(d)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert f"report: {d / 'report' / 'report.html'}" in proc.stdout
    html = (d / "report" / "report.html").read_text()
    failed = [t for t in json.loads((d / "sweep.json").read_text())["trials"] if t["state"] == "failed"]
    assert len(failed) == 2 and all(f"{t['name']} (failed):" in html for t in failed)
    assert "2 run(s) with results in 2 setting(s)" in html


def test_report_json_has_every_claim_and_exploratory_test(sweep_report):
    out, _ = sweep_report
    data = json.loads((out / "report.json").read_text())
    (group,) = data["groups"]
    claims = {c["id"]: c for c in group["confirmatory"]["claims"]}
    assert list(claims) == ["Q1a", "Q1b", "Q1c (GAN)", "Q2", "Q3 (slerp)", "Q3 (lerp)"]
    for c in claims.values():
        assert {"test", "estimate", "interval", "p", "p_adjusted", "verdict", "seeds_needed", "needs"} <= set(c)
    assert group["confirmatory"]["correction"] == "Holm" and group["exploratory"]["correction"] == "Benjamini-Hochberg"
    explored = group["exploratory"]
    assert explored["tests"] == len(explored["differences"]) == 0  # zn=16 has one seed: no pair can be tested
    assert explored["called"] == sum(d["called"] for d in explored["differences"])
    assert all(
        {"key", "lower", "higher", "estimate", "interval", "p", "p_adjusted", "called"} <= set(d)
        for d in explored["differences"]
    )
    assert {d["lower"] for d in explored["differences"]} <= {"zn=8", "zn=16"}


def test_image_rows_show_every_seed(tiny_sweep, tmp_path, monkeypatch):
    from analysis import build, figures
    from analysis.load.study import load_sweep

    seen = {}
    for name in ("comparison", "epoch_strips", "panel_rows"):
        real = getattr(figures, name)
        monkeypatch.setattr(
            figures,
            name,
            lambda rows, *a, _real=real, _name=name: seen.setdefault(_name, []).append(rows) or _real(rows, *a),
        )
    build.build(load_sweep(tiny_sweep), tmp_path / "figs")
    assert [label for label, *_ in seen["comparison"][0]] == [
        "zn=8 seed 0",
        "zn=8 seed 1",
        "zn=16 seed 0",
    ]  # one row per run
    assert [len(rows) for rows in seen["epoch_strips"]] == [2, 1] and [len(rows) for rows in seen["panel_rows"]] == [
        2,
        1,
    ]
