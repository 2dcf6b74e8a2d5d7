"""`genlat report` on folders a user has touched: files they keep in --out survive, a damaged run
folder is named as a problem while the others are reported, and one run given twice counts once;
and under `python -OO`.
Run folders are written by hand here (config, metrics, status): the report reads nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.report import main as report_main
from tests.helpers import ROOT


def _run(root: Path, zn: int, seed: int) -> Path:
    d = root / f"zn{zn}-s{seed}"
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"zn": zn, "seed": seed, "run_name": d.name, "epochs": 2}))
    (d / "metrics.jsonl").write_text(
        "".join(json.dumps({"epoch": e, "eval/fd": 100 / e + zn + seed}) + "\n" for e in (1, 2))
    )
    (d / "status.json").write_text(json.dumps({"state": "finished", "epoch": 2}))
    return d


@pytest.fixture
def runs(tmp_path) -> Path:
    root = tmp_path / "runs"
    for zn, seed in [(8, 0), (8, 1), (16, 0)]:
        _run(root, zn, seed)
    return root


def _summary(capsys) -> str:
    return capsys.readouterr().out


def test_report_keeps_the_users_files_in_out(runs, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "figures" / "mine").mkdir(parents=True)
    kept = [out / "figures" / "my_plot.png", out / "figures" / "mine" / "notes.txt", out / "notes.md"]
    for p in kept:
        p.write_text("the user's own")
    assert report_main([str(runs), "--out", str(out)]) == 0
    assert report_main([str(runs), "--out", str(out)]) == 0  # a second report over the first
    assert all(p.read_text() == "the user's own" for p in kept)
    assert (out / "figures" / "q1_metrics.png").exists()
    ours = json.loads((out / ".genlat-report.json").read_text())["figures"]
    assert (
        "my_plot.png" not in ours and f"{len(ours)} figures in" in _summary(capsys).splitlines()[-1]
    )  # the user's PNG is not counted as ours


def test_report_removes_only_its_own_stale_figures(runs, tmp_path):
    out = tmp_path / "out"
    assert report_main([str(runs), "--out", str(out)]) == 0
    (out / "figures" / "q1_metrics.png").rename(out / "figures" / "q9_old.png")  # as if an earlier report wrote it
    listed = json.loads((out / ".genlat-report.json").read_text())
    (out / ".genlat-report.json").write_text(
        json.dumps({"figures": [*listed["figures"], "q9_old.png", "../notes.png"]})
    )
    (out / "notes.png").write_text("the user's own")
    assert report_main([str(runs), "--out", str(out)]) == 0
    assert not (out / "figures" / "q9_old.png").exists()  # ours, from before: gone
    assert (out / "notes.png").read_text() == "the user's own"  # a path out of figures/ is never followed


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("genlat: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_users_file_named_like_a_figure_is_never_replaced(runs, tmp_path, capsys):
    """OUT/figures/q1_metrics.png that no report listed as its own is the user's: the report was
    overwriting it. Now it is refused (exit 4) before any figure moves or a page is written."""
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    mine = out / "figures" / "q1_metrics.png"
    mine.write_text("the user's own")
    assert report_main([str(runs), "--out", str(out)]) == 4
    assert "q1_metrics.png is not a figure an earlier report wrote" in _one_line(capsys)
    assert mine.read_text() == "the user's own"
    assert sorted(p.name for p in out.rglob("*")) == ["figures", "q1_metrics.png"]  # nothing else: no staging left
    mine.unlink()
    assert report_main([str(runs), "--out", str(out)]) == 0  # once it is moved away the same command works


@pytest.mark.parametrize("planted", ["report.md", "report.html", ".genlat-report.json", "figures",
                                     "figures/q1_metrics.png"])  # fmt: skip
def test_a_link_planted_in_out_is_never_written_through(runs, tmp_path, capsys, planted):
    """report.md (or figures/, or one figure) as a link to a user's file: its target was overwritten."""
    out = tmp_path / "out"
    assert report_main([str(runs), "--out", str(out)]) == 0  # an earlier report: the figure is listed as ours
    capsys.readouterr()
    target = tmp_path / "users"
    if planted == "figures":
        target.mkdir()
        (target / "q1_metrics.png").write_text("the user's own")
        import shutil

        shutil.rmtree(out / planted)
    else:
        target.write_text("the user's own")
        (out / planted).unlink()
    (out / planted).symlink_to(target)
    assert report_main([str(runs), "--out", str(out)]) == 4
    line = _one_line(capsys)
    assert "is a symbolic link" in line and planted.split("/")[-1] in line
    kept = target / "q1_metrics.png" if planted == "figures" else target
    assert kept.read_text() == "the user's own" and (out / planted).is_symlink()
    assert not [p for p in out.iterdir() if p.name.startswith(".genlat-report-")]  # no staging folder left


@pytest.mark.parametrize("damage", [
    ("status.json", "{not json"), ("status.json", "[1, 2]"), ("config.json", "{not json"), ("config.json", "[]"),
    ("metrics.jsonl", '{"epoch": 1, "eval/fd": 3}\n{"eval/fd": 2}\n{"epoch": 2, "eval/fd": 1}\n'),
    ("metrics.jsonl", '{"epoch": 1, "eval/f\n{"epoch": 2, "eval/fd": 1}\n'),
    ("metrics.jsonl", '{"epoch": 1, "eval/fd": 3}\n{"epoch": 1, "eval/fd": 3}\n'),
    ("metrics.jsonl", b'\xff\xfe\n'),
])  # fmt: skip
def test_a_damaged_run_is_named_and_the_rest_reported(runs, tmp_path, capsys, damage):
    name, text = damage
    path = runs / "zn16-s0" / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "out"
    assert report_main([str(runs), "--out", str(out)]) == 0
    assert "2 runs, 1 problem(s) named" in _summary(capsys)
    html = (out / "report.html").read_text()
    assert "zn16-s0" in html and "damaged run folder" in html and "zn=16" not in html


def test_a_cut_last_metrics_line_is_not_damage(runs, tmp_path, capsys):
    with open(runs / "zn16-s0" / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 3, "ev')  # a kill in the middle of an append: the resume rewrites it
    assert report_main([str(runs), "--out", str(tmp_path / "out")]) == 0
    assert "3 runs, 0 problem(s) named" in _summary(capsys)


def test_one_run_given_twice_counts_once(runs, tmp_path, capsys):
    a = runs / "zn8-s0"
    assert report_main(["--runs", str(a), str(a), f"{a}/", "--out", str(tmp_path / "out")]) == 0
    assert "1 runs, 0 problem(s) named" in _summary(capsys)
    assert "n=2" not in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.parametrize("text", ["{}", "[]", '{"trials": [1]}', "{cut"])
def test_a_damaged_sweep_json_is_one_line(runs, tmp_path, capsys, text):
    (runs / "sweep.json").write_text(text)
    assert report_main([str(runs), "--out", str(tmp_path / "out")]) == 4
    err = capsys.readouterr().err
    assert err.count("genlat: error:") == 1 and "Traceback" not in err and "sweep.json" in err


def test_report_under_python_OO(runs, tmp_path):
    """No docstring is used as data: with docstrings stripped (-OO) the report and its help still work."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-OO", "-m", "genlat", "report"]
    proc = subprocess.run([*cmd, str(runs), "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Q1: latent size" in (out / "report.html").read_text() and (out / "report.md").exists()
    help_text = subprocess.run([*cmd, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "Q1-Q3 answered from the runs' own records" in " ".join(
        help_text.stdout.split()
    )
