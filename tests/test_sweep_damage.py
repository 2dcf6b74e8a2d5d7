"""A sweep's inputs are bounded and its state validated: names from the sweep file become one safe
folder name (`name: ../../../../x` stays under runs/), a YAML alias bomb is refused before it is
expanded, a sweep.json of the wrong types (or a trial named like a path) is one line naming it, and
a sweep folder that cannot be written (a read-only filesystem) is one line, exit 4."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from genlat.sweep.cli import sweep_main
from genlat.sweep.spec import load_spec
from genlat.sweep.state import safe_name
from tests.finished import finished_sweep
from tests.helpers import ROOT, child_env, sweep_file


def _one_line(capsys, code_text: str = "") -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("genlat: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("name, folder", [
    ("../../../../x", "_.._.._.._x"), ("/etc/passwd", "_etc_passwd"), ("..", "sweep"), (".hidden", "hidden"),
    ("a b\nc", "a_b_c"), ("x" * 300, "x" * 100),
])  # fmt: skip
def test_a_sweep_name_becomes_one_safe_folder_name(tmp_path, monkeypatch, name, folder):
    path = sweep_file(tmp_path / "s.yaml", name=name)
    monkeypatch.chdir(ROOT)
    spec = load_spec(path)
    assert spec.name == folder and safe_name(spec.name) == spec.name
    assert Path("runs", f"sweep-{spec.name}").resolve().parent == (ROOT / "runs").resolve()


def test_a_yaml_alias_bomb_is_refused_before_it_is_expanded(tmp_path, capsys):
    """Nine levels of ten aliases each: a 400-byte file whose values, written out, are ten billion."""
    path = sweep_file(tmp_path / "bomb.yaml")
    config = yaml.safe_load(path.read_text())
    levels = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))
    text = (
        yaml.safe_dump({k: v for k, v in config.items() if k != "parameters"})
        + "l0: &l0 [8, 8, 8, 8, 8, 8, 8, 8, 8, 8]\n"
        + levels
    )
    text += "parameters:\n  zn:\n    values: *l9\n"
    path.write_text(text)
    t0 = time.monotonic()
    assert sweep_main([str(path), "--dir", str(tmp_path / "out")]) == 2
    assert time.monotonic() - t0 < 30
    line = _one_line(capsys)
    assert "alias" in line and str(path) in line and not (tmp_path / "out").exists()


@pytest.fixture
def sweep(tmp_path_factory, tmp_path) -> Path:
    return Path(shutil.copytree(finished_sweep(tmp_path_factory), tmp_path / "sweep", symlinks=True))


@pytest.mark.parametrize("change, words", [
    (lambda t: t.update(attempts="one"), "attempts is str"),
    (lambda t: t.update(state="sleeping"), "state is 'sleeping'"),
    (lambda t: t.update(name="../../../escape"), "is not a folder name of its own"),
    (lambda t: t.update(seconds=None), "seconds is NoneType"),
    (lambda t: t.update(best="low"), "best is str"),
    (lambda t: t.update(owner={"host": 3}), "owner is not a host and pid"),
    (lambda t: t.update(epoch=-1), "a negative count"),
])  # fmt: skip
def test_a_sweep_json_of_the_wrong_types_is_one_line(sweep, tmp_path, capsys, change, words):
    data = json.loads((sweep / "sweep.json").read_text())
    change(data["trials"][0])
    (sweep / "sweep.json").write_text(json.dumps(data))
    before = (sweep / "sweep.json").read_bytes()
    assert sweep_main(["--status", str(sweep)]) == 4
    line = _one_line(capsys)
    assert str(sweep / "sweep.json") in line and words in line
    from analysis.report import main as report_main

    assert report_main([str(sweep), "--out", str(tmp_path / "report")]) == 4
    assert words in _one_line(capsys)
    assert (sweep / "sweep.json").read_bytes() == before
    assert not (tmp_path / "escape").exists()


def test_a_damaged_trial_run_folder_does_not_sink_status(sweep, capsys):
    data = json.loads((sweep / "sweep.json").read_text())
    data["trials"][0]["state"] = "running"  # --status reads a running trial's run folder
    (sweep / "sweep.json").write_text(json.dumps(data))
    run = sweep / "runs" / data["trials"][0]["name"]
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").mkdir()
    assert sweep_main(["--status", str(sweep)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def _read_only(folder: Path, argv: list[str]) -> subprocess.CompletedProcess:
    """`python -m genlat ARGV` with FOLDER read-only: a bind mount remounted read-only in a mount
    namespace of its own (unshare), so nothing outside the child process sees it."""
    script = f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" && exec "$@"'
    cmd = ["unshare", "-rm", "sh", "-c", script, "sh", sys.executable, "-m", "genlat", *argv]
    return subprocess.run(
        cmd, cwd=ROOT, env=child_env(WANDB_MODE="disabled"), capture_output=True, text=True, timeout=300
    )


def test_a_sweep_folder_on_a_read_only_filesystem_is_one_line_exit_4(sweep, tmp_path):
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f'mount --bind "{tmp_path}" "{tmp_path}" && mount -o remount,bind,ro "{tmp_path}"'],
                           capture_output=True)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip("no mount namespace here (unshare -rm) to make a read-only filesystem in")
    spec = sweep / "sweep.yaml"
    proc = _read_only(sweep, ["sweep", str(spec), "--dir", str(sweep)])
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("genlat: error:") == 1
    assert "cannot write the sweep directory" in proc.stderr and "Read-only file system" in proc.stderr
    status = _read_only(sweep, ["sweep", "--status", str(sweep)])  # reading works on a read-only folder
    assert status.returncode == 0 and "finished" in status.stdout, status.stderr


@pytest.mark.parametrize("planted", ["a link to a user's file", "a FIFO", "logs/ as a link"])
def test_a_trial_log_planted_as_a_link_is_never_written_through(tmp_path, planted):
    """DIR/logs/TRIAL.log as a link to a user's file: the trial's output was appended to that file."""
    from genlat.sweep.procs import open_log

    mine = tmp_path / "users.txt"
    mine.write_text("the user's own")
    logs = tmp_path / "sweep" / "logs"
    if planted == "logs/ as a link":
        (tmp_path / "elsewhere").mkdir()
        logs.parent.mkdir()
        logs.symlink_to(tmp_path / "elsewhere")
    else:
        logs.mkdir(parents=True)
        os.mkfifo(logs / "t000.log") if planted == "a FIFO" else (logs / "t000.log").symlink_to(mine)
    with pytest.raises(OSError, match="genlat writes only inside the sweep folder"):
        open_log(logs / "t000.log")
    assert mine.read_text() == "the user's own"
    assert planted != "logs/ as a link" or not list((tmp_path / "elsewhere").iterdir())
