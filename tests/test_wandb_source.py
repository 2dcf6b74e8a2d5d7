"""`genlat report --wandb`: a run read back by the real client from the local W&B server, its Q3
panels from the interpolation table's artifact; selecting a group's runs (an offline sweep synced
by `genlat sweep --sync` carries its group); W&B's errors, which span lines, printed as one
`genlat: error:` line. Selection and errors use a fake public API (what wandb.Api().runs() yields,
without media); genlat's own runs end to end: test_wandb_report_online.py (slow)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from analysis.load import wandb as wandb_source
from analysis.render import wandb as wandb_report
from analysis.report import main as report_main
from genlat.errors import ConfigError, GenlatError, entry_point
from tests.test_report_stamps import STAMPED, write_run
from tests.test_wandb_server import PROJECT, pngs, run_child  # noqa: F401  (pngs: a fixture)

PAGE = (
    "404 Not Found\n<html>\n  <head><title>Not Found</title></head>\n"
    "  <body>\n    <p>no such project</p>\n  </body>\n</html>"
)


class Run:
    entity, project, state = "me", "genlat", "finished"

    def __init__(self, run_id: str, group: str, zn: int, seed: int):
        self.id = self.name = run_id
        self.group = group
        self.config = {"zn": zn, "seed": seed, "wandb_group": group, **STAMPED}
        self.summary = self.summary_metrics = dict(STAMPED)
        self._history = [
            {"epoch": e, "eval/fd": zn + seed + 1.0 / e, "eval/samples": 256, "eval/metric_version": 1} for e in (1, 2)
        ]

    def scan_history(self):
        return iter(self._history)


class Api:
    def __init__(self, runs, fail: str | None = None):
        self._runs, self.fail = runs, fail

    def runs(self, path, filters=None):
        if self.fail:
            raise RuntimeError(self.fail)
        return [r for r in self._runs if not filters or r.group == filters["group"]]


def test_the_real_client_reads_the_panels_from_the_tables_artifact(wandb_server, tmp_path, pngs):  # noqa: F811
    """A run logged online as genlat logs it (the final `interpolation` table of panel pairs), read
    back through wandb.Api: its table file says "Image" in each picture's cell, and its summary holds
    the table's reference as an object that is no dict; the panel is the two pairs' pictures stacked
    with one border between them (genlat.grids.stack_rows, tested against the run's own panel)."""
    import wandb

    run_child(wandb_server, tmp_path, pngs, "withpanels1")
    (run,) = wandb.Api().runs(f"{wandb_server.store.entity}/{PROJECT}")
    record = wandb_source.to_record(run, tmp_path / "cache", wandb.Api())
    assert list(record.panels) == [(2, "slerp")]
    first, second = (np.asarray(Image.open(p).convert("RGB")) for p in pngs)
    stacked = np.concatenate([first, second[2:]])  # the second row's top border is the first's bottom one
    assert np.array_equal(np.asarray(Image.open(record.panels[(2, "slerp")])), stacked)
    assert [m["epoch"] for m in record.metrics] == [0, 1, 2] and record.samples  # history and the sample image


# Two offline sweeps of one file, synced into one project: each under its own group.
RUNS = [Run(f"{g}{zn}{s}", f"sweep-zn-{g}", zn, s) for g in ("a", "b") for zn in (8, 16) for s in (0, 1)]


def test_group_selects_one_synced_sweep(tmp_path, monkeypatch):
    study = wandb_source.load_wandb("me/genlat", tmp_path / "cache", api=Api(RUNS), group="sweep-zn-a")
    assert sorted(r.name for r in study.runs) == ["a160", "a161", "a80", "a81"]
    assert wandb_report.target(study) == ("me", "genlat", "Metric('Group') = 'sweep-zn-a'")
    assert "group sweep-zn-a" in study.source
    monkeypatch.setattr(wandb_source, "default_api", lambda: Api(RUNS))
    out = tmp_path / "report"
    assert report_main(["--wandb", "me/genlat", "--group", "sweep-zn-b", "--out", str(out)]) == 0
    md = (out / "report.md").read_text()
    assert "b80" in md and "a80" not in md and "4 run(s) with results in 2 setting(s)" in md


def test_without_a_group_the_runset_is_the_runs_read(tmp_path):
    study = wandb_source.load_wandb("me/genlat", tmp_path / "cache", api=Api(RUNS[:2]))
    assert wandb_report.target(study) == ("me", "genlat", "Metric('ID') in ['a80', 'a81']")


def test_a_group_with_no_runs_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(wandb_source, "default_api", lambda: Api(RUNS))
    assert report_main(["--wandb", "me/genlat", "--group", "sweep-zn-A", "--out", str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err == (
        "genlat: error: --wandb me/genlat group sweep-zn-A: no runs there; check the names (W&B's are case-sensitive)\n"
    )
    assert not (tmp_path / "r" / "report.html").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--runs", "x", "--group", "g"],
        ["--wandb", "me/genlat/abc123", "--group", "g"],
        ["--wandb", "me/genlat", "--group", " "],
    ],
)
def test_a_group_needs_a_project_and_no_sweep(argv, capsys):
    assert report_main(argv) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("genlat: error: ") and "--group" in line


def test_a_multi_line_wandb_error_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(wandb_source, "default_api", lambda: Api(RUNS, fail=PAGE))
    assert report_main(["--wandb", "me/genlat", "--out", str(tmp_path / "r")]) == 69
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(
        "genlat: error: --wandb me/genlat: cannot read the runs (RuntimeError: 404 Not Found <html> <head>"
    )


def test_a_multi_line_publish_error_is_one_line(tmp_path, monkeypatch, capsys):
    class Refused:
        def save(self):
            raise RuntimeError("permission denied\nfor entity me\n" + "x" * 2000)

    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    monkeypatch.setattr(wandb_report, "build_report", lambda *args: Refused())
    run = write_run(tmp_path / "runs", "r1", {"zn": 8, "seed": 0, "wandb_entity": "me"}, [{**STAMPED, "eval/fd": 1.0}])
    assert report_main(["--runs", str(run), "--out", str(tmp_path / "r"), "--publish"]) == 69
    (line,) = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("genlat:")]
    assert line.startswith(
        "genlat: error: --publish: W&B refused or could not be reached "
        "(RuntimeError: permission denied for entity me xxx"
    )
    assert len(line) <= 15 + 600 and line.endswith("…")


def test_the_mechanism_one_line_per_error_one_per_listed_problem(capsys):
    from genlat.errors import error_lines

    class Listed(ConfigError):
        def __init__(self, problems):
            self.problems = problems
            super().__init__("\n".join(problems))

    assert error_lines(GenlatError("cannot reach W&B:\n  HTTP 502\n\n  try again")) == [
        "cannot reach W&B: HTTP 502 try again"
    ]
    assert error_lines(Listed(["f.yaml: method: bad", "f.yaml: zn: bad\n"])) == [
        "f.yaml: method: bad",
        "f.yaml: zn: bad",
    ]

    @entry_point
    def main(argv):
        raise ConfigError("line one\nline two")

    assert main([]) == 2
    assert capsys.readouterr().err == "genlat: error: line one line two\n"
