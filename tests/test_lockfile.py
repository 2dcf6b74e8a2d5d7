"""genlat's lock files (RUN/.lock, DIR/.sweep.lock) through one helper: a link, a hard link, a FIFO or
a folder planted at the lock's path is refused with one line and the file it points at is untouched;
two holders, threads of one process included, exclude each other."""

import os
import threading
import time

import pytest

from genlat.errors import OutputError
from genlat.runlock import RunLock
from genlat.sweep.state import SweepState


def _plant(kind, path, victim):
    if kind == "symlink":
        os.symlink(victim, path)
    elif kind == "hardlink":
        os.link(victim, path)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "fifo", "folder"])
def test_a_planted_lock_path_is_refused_and_its_target_kept(tmp_path, kind):
    victim = tmp_path / "users-file"
    victim.write_text("the user's data")
    run, sweep = tmp_path / "run", tmp_path / "sweep"
    for folder, name in ((run, ".lock"), (sweep, ".sweep.lock")):
        folder.mkdir()
        _plant(kind, folder / name, victim)
    with pytest.raises(OutputError, match=r"\.lock is (a link|not a regular file), not genlat's lock file"):
        RunLock(run).acquire()
    with pytest.raises(OutputError, match=r"\.sweep\.lock is not genlat's lock file \("):
        with SweepState(sweep)._lock():
            pass
    assert victim.read_text() == "the user's data"


def test_the_sweep_lock_excludes_a_second_thread(tmp_path):
    state = SweepState(tmp_path)
    inside, order = threading.Event(), []

    def hold():
        with state._lock():
            inside.set()
            time.sleep(0.3)
            order.append("first out")

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(5)
    with state._lock():
        order.append("second in")
    t.join()
    assert order == ["first out", "second in"]


def test_a_run_lock_names_its_holder_and_is_free_once_released(tmp_path):
    first, second = RunLock(tmp_path), RunLock(tmp_path)
    first.acquire()
    with pytest.raises(OutputError, match=f"being written by another process \\(host .*, pid {os.getpid()}\\)"):
        second.acquire()
    first.release()
    second.acquire()
    assert second.held
    second.release()
