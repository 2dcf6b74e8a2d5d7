"""One writer per run folder: an exclusive `flock` on RUN/.lock, held for the run's life.

A second process on the same folder (a second `train.py`, a sweep trial whose runner was thought
dead) is refused with the holder's host and pid. The kernel drops the lock when its process dies,
however it dies, so a lock left by a killed process is simply taken over. Where the run folder
lives on a shared filesystem, flock must work across hosts there (see the README's sweep section).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from genlat.errors import OutputError
from genlat.lockfile import NotALockFile, open_lock, try_lock

LOCK_NAME = ".lock"


class RunLock:
    def __init__(self, run_path: Path):
        self.path = Path(run_path) / LOCK_NAME
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def acquire(self) -> None:
        """Take the lock (the run folder must exist), or raise OutputError naming its holder."""
        if self.held:
            return
        try:  # never through a link planted as RUN/.lock (genlat.lockfile)
            fd = open_lock(self.path)
        except NotALockFile as e:
            raise _not_ours(self.path, "a link" if e.what == "a link" else "not a regular file") from None
        try:
            taken = try_lock(fd)
        except OSError:
            os.close(fd)
            raise
        if not taken:
            os.close(fd)
            raise OutputError(
                f"{self.path.parent} is being written by another process ({self.holder()}); "
                "wait for it to end, or pick another --name or --out"
            )
        os.ftruncate(fd, 0)  # whoever held it before is gone: the file (ours, one name, no link) now names us
        os.write(fd, json.dumps({"host": socket.gethostname(), "pid": os.getpid()}).encode())
        self.fd = fd

    def holder(self) -> str:
        try:
            who = json.loads(self.path.read_text())
            return f"host {who['host']}, pid {who['pid']}"
        except (OSError, ValueError, TypeError, KeyError):
            return "unknown holder"

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the lock; the file stays (deleting it would race)
            self.fd = None


def _not_ours(path: Path, what: str) -> OutputError:
    return OutputError(
        f"{path} is {what}, not genlat's lock file: remove it (genlat never writes through links "
        "in a run folder), then re-run the same command"
    )
