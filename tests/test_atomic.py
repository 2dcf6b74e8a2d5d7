"""genlat.atomic: a write is all or nothing; a write cut by a kill leaves its temp file where the run
directory's cleanup finds it; a failed one leaves none."""

import signal
import subprocess
import sys

import pytest

from genlat.atomic import atomic_write_bytes, atomic_write_json
from genlat.rundir import RunDir
from tests.helpers import ROOT, child_env

KILLED_WRITE = (
    "from pathlib import Path; from genlat.atomic import atomic_write_bytes; "
    "atomic_write_bytes(Path('{}'), b'new' * 1000, fault='checkpoint')"
)


@pytest.mark.parametrize("point", ["write", "rename"])
def test_a_killed_write_keeps_the_old_file_and_leaves_a_temp_the_run_dir_removes(tmp_path, point):
    target = tmp_path / "checkpoints" / "epoch_001.pt"
    atomic_write_bytes(target, b"old")
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_WRITE.format(target)],
        cwd=ROOT,
        env=child_env(PYTHONPATH=str(ROOT), GENLAT_FAULT=f"kill:checkpoint-{point}"),
    )
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"old"
    (temp,) = RunDir(tmp_path).remove_temp_files()
    assert temp.parent == target.parent and temp.name.startswith(".epoch_001.pt.")
    assert sorted(p.name for p in target.parent.iterdir()) == ["epoch_001.pt"]


def test_a_failed_write_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    atomic_write_json(target, {"a": 1})
    monkeypatch.setenv("GENLAT_FAULT", "enospc:checkpoint-write")
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"{}", fault="checkpoint")
    assert target.read_text() == '{\n  "a": 1\n}\n' and [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_files_get_the_mode_open_would_give(tmp_path):
    """Not mkstemp's private 0600: other users read a run's PNGs as they read any file."""
    atomic_write_bytes(tmp_path / "a.png", b"x")
    (tmp_path / "b.png").write_bytes(b"x")
    assert (tmp_path / "a.png").stat().st_mode == (tmp_path / "b.png").stat().st_mode
