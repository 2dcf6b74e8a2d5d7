"""Trial processes: each trial is its own process group (session), so one signal reaches all of it:
`accelerate launch`, its ranks, their data workers. A trial is over when no process of its group is
left, not when the launcher exits (the launcher dies at once on SIGTERM; the ranks finish their step,
write their checkpoint status and exit 75 a moment later).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


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
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):  # fields: state, ppid, pgrp, ...
            return True
    return False


def process_start_time(pid: int) -> str | None:
    """A token that tells this process from a later one with the same pid; None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else fields[19]  # starttime, in clock ticks since boot
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
            return "alive"
        except ProcessLookupError:
            return None
        except PermissionError:
            return "alive"


def terminate_group(pgid: int, grace_s: float, poll_s: float = 0.2) -> None:
    """SIGTERM a group (train.py then stops at its next step and exits 75), SIGKILL what is left after grace_s."""
    import time

    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(poll_s)
    if group_alive(pgid):
        signal_group(pgid, signal.SIGKILL)
