"""One writer per run folder: an exclusive `flock` on RUN/.lock, held for the run's life.

A second process on the same folder (a second `train.py`, a sweep trial whose runner was thought
dead) is refused with the holder's host and pid. The kernel drops the lock when its process dies,
however it dies, so a lock left by a killed process is simply taken over. Where the run folder
lives on a shared filesystem, flock must work across hosts there (see the README's sweep section).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import stat
from pathlib import Path

from genlat.errors import OutputError

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
        try:  # never through a link planted as RUN/.lock: O_NOFOLLOW, and only a regular file is ours
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
        except OSError as e:
            if e.errno != errno.ELOOP:
                raise
            raise _not_ours(self.path, "a link") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise _not_ours(self.path, "not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise OutputError(f"{self.path.parent} is being written by another process ({self.holder()}); "
                              "wait for it to end, or pick another --name or --out") from None
        os.ftruncate(fd, 0)  # whoever held it before is gone: the file now names us
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
    return OutputError(f"{path} is {what}, not genlat's lock file: remove it (genlat never writes through links "
                       "in a run folder), then re-run the same command")
