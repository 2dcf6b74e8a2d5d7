"""How the sweep runner names what happened to a trial: results are never retried, interruptions are
resumed, and only failures count against --retries."""

import signal
from pathlib import Path

import pytest

from genlat.sweep.outcome import outcome as classify
from genlat.sweep.procs import Attempt
from genlat.sweep.trial import Trial

NO_LOG = Path("/nonexistent/trial.log")


def outcome(rc, status=None, epoch=1, epoch_before=1, stop=None):
    attempt = Attempt(trial=Trial(name="t000"), groups=(), slot=0, stop=stop, rc=rc, epoch_before=epoch_before)
    return classify(attempt, status or {}, epoch, NO_LOG)


@pytest.mark.parametrize("rc, status, epoch, before, stop, expected", [
    (0, {"state": "finished"}, 3, 0, None, "finished"),
    (5, {"state": "diverged", "reason": "mode collapse: …"}, 2, 0, None, "diverged"),  # a result: not retried
    (75, {"state": "preempted"}, 1, 0, None, "preempted"),  # SIGTERM handled by train.py
    (1, {"state": "preempted"}, 1, 0, None, "preempted"),  # accelerate launch turns 75 into 1
    (-signal.SIGTERM, {}, 0, 0, None, "preempted"),  # SIGTERM while train.py was still importing
    (-signal.SIGKILL, {"state": "running"}, 2, 1, None, "preempted"),  # killed from outside after progress
    (-signal.SIGKILL, {"state": "running"}, 1, 1, None, "failed"),  # killed before any progress: counts
    (1, {}, 0, 0, None, "failed"),
    (75, {"state": "preempted"}, 1, 0, "stopped", "stopped"),  # hyperband's stop
    (75, {}, 1, 0, "preempted", "preempted"),  # the runner's own stop
])  # fmt: skip
def test_outcome(rc, status, epoch, before, stop, expected):
    state, error = outcome(rc, status, epoch, before, stop)
    assert state == expected
    if expected == "diverged":
        assert error == "mode collapse: …"
    if rc == -signal.SIGKILL and expected == "preempted":
        assert "killed by SIGKILL after epoch 2" in error
