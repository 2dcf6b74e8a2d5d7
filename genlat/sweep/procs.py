"""Trial processes: each trial is its own process group (session), so one signal reaches all of it:
`accelerate launch`, its ranks, their data workers. A trial is over when no process of its group is
left, not when the launcher exits (the launcher dies at once on SIGTERM; the ranks finish their step,
write their checkpoint status and exit 75 a moment later). Processes are read through psutil.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from genlat.sweep.trial import Trial

GONE = (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Attempt:
    """One attempt of a trial that this runner watches: the process group it started (`proc` leads
    it), or the groups of an orphan (proc None: started by a runner that is gone), stopped before
    the trial resumes. The attempt is over when none of its groups has a live process left."""

    trial: Trial  # this runner's copy; sweep.json holds the truth
    groups: tuple[int, ...]
    proc: subprocess.Popen | None = None
    slot: int | None = None  # the worker slot; None for an orphan, which takes none
    t0: float = field(default_factory=time.monotonic)
    stop: str | None = None  # "preempted" (the runner was stopped), "stopped" (hyperband), "lost" (taken over)
    stop_sent: float | None = None
    rc: int | None = None
    exited: float | None = None  # when the launcher exited (an orphan: when it was found)
    metrics_mtime: float = 0.0
    status_before: int | None = None  # status.json's mtime at the start: an older status is not this attempt's
    epoch_before: int = 0  # the trial's last finished epoch when this attempt started

    def launcher_done(self) -> bool:
        if self.proc is not None and self.rc is None:
            self.rc = self.proc.poll()
        done = self.proc is None or self.rc is not None
        if done and self.exited is None:
            self.exited = time.monotonic()
        return done

    def alive(self) -> bool:
        return any(group_alive(g) for g in self.groups)

    def signal(self, sig: int, stop: str | None = None) -> None:
        """Signal every process of the attempt; `stop` says why, the first time it is stopped."""
        if stop is not None and self.stop_sent is None:
            self.stop, self.stop_sent = self.stop or stop, time.monotonic()
        for g in self.groups:
            signal_group(g, sig)


def start(argv: list[str], env: dict[str, str], cwd: str, log: Path, header: str) -> subprocess.Popen:
    """Start the trial's command as a new session, its output appended to `log` after `header`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open_log(log) as out:  # the child keeps its own handle
        out.write(header.encode())
        out.flush()
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def open_log(log: Path):
    """The trial's log for appending, never through a link planted at DIR/logs or at the log itself
    (its target, a user's file, was appended to), never a FIFO (no block): an OSError naming it."""
    if log.parent.is_symlink():
        raise OSError(f"{log.parent} is a symbolic link; genlat writes only inside the sweep folder (remove the link)")
    try:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError:
        if os.path.islink(log) or (os.path.exists(log) and not os.path.isfile(log)):
            why = "a symbolic link" if os.path.islink(log) else "not a regular file"
            raise OSError(f"{log} is {why}; genlat writes only inside the sweep folder (remove it)") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{log} is not a regular file; genlat writes only its own logs there (remove it)")
    return os.fdopen(fd, "ab")


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


def trial_groups(sweep_id: str, trial: str, pgid: int | None = None) -> set[int]:
    """The process groups on this host started for this sweep's trial: those whose processes carry the
    GENLAT_SWEEP_ID and GENLAT_TRIAL a runner gives every trial (also one whose runner died before it
    wrote the group down). A group number alone is not trusted (it may have been reused by then),
    except `pgid` for processes whose environment cannot be read."""
    groups = set()
    for p in psutil.process_iter(["environ", "status"]):
        if p.info["status"] in GONE:
            continue
        env = p.info.get("environ")
        try:
            if env is None and pgid and os.getpgid(p.pid) == pgid:
                groups.add(pgid)
            elif env and env.get("GENLAT_SWEEP_ID") == sweep_id and env.get("GENLAT_TRIAL") == trial:
                groups.add(os.getpgid(p.pid))
        except (ProcessLookupError, PermissionError):
            continue
    return groups
