"""Trial processes: each trial is its own process group (session), so one signal reaches all of it:
`accelerate launch`, its ranks, their data workers. A trial is over when no process of its group is
left, not when the launcher exits (the launcher dies at once on SIGTERM; the ranks finish their step,
write their checkpoint status and exit 75 a moment later). Processes are read through psutil.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil

GONE = (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def start(argv: list[str], env: dict[str, str], cwd: str, log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:  # the child keeps its own handle
        return subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    """True while any live (non-zombie) process belongs to the group."""
    for p in psutil.process_iter(["status"]):
        try:
            if p.info["status"] not in GONE and os.getpgid(p.pid) == pgid:
                return True
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return False


def process_start_time(pid: int) -> str | None:
    """A token that tells this process from a later one with the same pid; None when it is gone. It is
    the start time in clock ticks since boot, as sweep.json has always held it (`pid_start`)."""
    try:
        p = psutil.Process(pid)
        if p.status() in GONE:
            return None
        return str(round((p.create_time() - psutil.boot_time()) * _TICKS))
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        return "alive"


def trial_groups(sweep_id: str, trial: str) -> set[int]:
    """The process groups on this host whose processes were started for this sweep's trial (the
    GENLAT_SWEEP_ID and GENLAT_TRIAL a runner gives every trial), e.g. one whose runner died before it
    could write the group down."""
    groups = set()
    for p in psutil.process_iter(["environ", "status"]):
        env = p.info.get("environ") or {}
        if env.get("GENLAT_SWEEP_ID") == sweep_id and env.get("GENLAT_TRIAL") == trial and p.info["status"] not in GONE:
            try:
                groups.add(os.getpgid(p.pid))
            except ProcessLookupError:
                continue
    return groups


def terminate_group(pgid: int, grace_s: float, poll_s: float = 0.2) -> None:
    """SIGTERM a group (train.py then stops at its next step and exits 75), SIGKILL what is left after grace_s."""
    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(poll_s)
    if group_alive(pgid):
        signal_group(pgid, signal.SIGKILL)
