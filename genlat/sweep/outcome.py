"""What happened to an attempt: from the run's own status.json first, then the exit code, and the
trial's one-line error from its log. Results are never retried, interruptions are resumed, and only
failures count against --retries."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from genlat.errors import EXIT_PREEMPTED
from genlat.records import Damaged
from genlat.rundir import RunDir
from genlat.sweep.procs import Attempt


def outcome(a: Attempt, status: dict[str, Any], epoch: int, log_path: Path) -> tuple[str, str]:
    """(state, error). `accelerate launch` turns every non-zero exit of train.py into 1, so the exit
    code alone cannot tell preempted from failed. A diverged trial is a result, like a finished one."""
    state = status.get("state")
    if state == "finished":
        return "finished", ""
    if a.stop == "stopped":
        return "stopped", "stopped by hyperband"
    if state == "diverged":
        return "diverged", status.get("reason") or "training diverged"
    if a.stop == "preempted" or a.rc == EXIT_PREEMPTED or state == "preempted":
        return "preempted", ""
    if a.rc == 0:
        return "finished", ""
    if a.rc == -signal.SIGTERM:  # a stop request that came before train.py could install its handler
        return "preempted", "stopped by SIGTERM while starting; resumes"
    if a.rc is not None and a.rc < 0 and epoch > a.epoch_before:
        # killed from outside (a scheduler, the OOM killer) after it had checkpointed progress: an
        # interruption, resumed like a preemption; one killed before any progress counts as a failure,
        # so a trial that is killed every time it starts is given up after --retries
        return "preempted", f"killed by {signal.Signals(-a.rc).name} after epoch {epoch}; resumes"
    return "failed", failure_line(log_path, a.rc)


def failure_line(log: Path, rc: int | None) -> str:
    """The trial's own one-line error when it printed one, else its exit code; the log has the rest."""
    try:
        lines = log.read_text(errors="replace").splitlines()[-200:]
    except OSError:
        lines = []
    errors = [line.strip() for line in lines if line.startswith("genlat: error:")]
    what = errors[-1] if errors else f"exit code {rc}"
    return f"{what[:200]} (log: {log})"


def read_status(run: RunDir) -> dict[str, Any]:
    """The run's status.json, {} when it is missing or damaged."""
    try:
        return run.read_status() or {}
    except Damaged:
        return {}


def mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
