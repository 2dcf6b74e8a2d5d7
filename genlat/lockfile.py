"""genlat's lock files (a run's RUN/.lock, a sweep's DIR/.sweep.lock): one `fcntl.flock` helper.

A lock file is opened without following a link (O_NOFOLLOW), without blocking on a FIFO planted in
its place (O_NONBLOCK), and used only when it is a regular file with no other name (a hard link
would make the run lock's holder record overwrite a user's file). The kernel drops a flock when
the holder's descriptor closes, however its process dies, so a dead holder's lock is simply taken.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class NotALockFile(Exception):
    """The path is not a lock file genlat may use; `what` says what it is ("a link", "a FIFO", ...)."""

    def __init__(self, path: Path, what: str):
        super().__init__(f"{path} is {what}")
        self.path, self.what = path, what


def open_lock(path: Path) -> int:
    """A descriptor on the lock file at `path` (created when missing), opened for writing only (a FIFO
    with no reader then fails at once instead of opening).
    NotALockFile when the path is a link, a FIFO or anything but a regular file; OSError otherwise."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise NotALockFile(path, "a link") from None
        if e.errno == errno.ENXIO:
            raise NotALockFile(path, "a FIFO") from None
        if e.errno == errno.EISDIR:
            raise NotALockFile(path, "not a regular file") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
        os.close(fd)
        raise NotALockFile(path, "a link" if stat.S_ISREG(st.st_mode) else "not a regular file")
    return fd


def try_lock(fd: int) -> bool:
    """Take the exclusive lock now if nobody holds it; False when another descriptor does."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


@contextmanager
def held(fd: int) -> Iterator[None]:
    """The exclusive lock on an open lock file (`open_lock`), waited for and held for the block; the
    descriptor is closed after it. Each holder opens its own descriptor, so two threads of one
    process exclude each other as two processes do."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock; the file stays (deleting it would race the next holder)
