"""Fault injection for the reliability tests: make a run fail at a named point, exactly there.

    GENLAT_FAULT="ACTION:POINT[@EPOCH][,...]"     e.g.  kill:checkpoint-write@2

POINT is where the run calls `hit`: `mid-epoch` (half-way through an epoch's steps), `checkpoint-write`
(half of a checkpoint's bytes are in its temp file), `checkpoint-rename` (the temp file is complete
and fsynced, not yet renamed), `metrics-append` (half of an epoch's metrics line is written), `loss`
(the epoch's losses). ACTION: `kill` (SIGKILL: no handler, no cleanup, as a preempting scheduler or the
OOM killer would), `term` (SIGTERM: the run's own preemption path), `enospc` (the write fails as on a
full disk), `nan` (the epoch's losses become NaN). EPOCH limits it to one epoch.

Unset, `hit` costs one dictionary lookup; nothing else in genlat reads GENLAT_FAULT.
"""

from __future__ import annotations

import errno
import os
import signal

from genlat.errors import ConfigError

ENV = "GENLAT_FAULT"
ACTIONS = ("kill", "term", "enospc", "nan")
POINTS = ("mid-epoch", "checkpoint-write", "checkpoint-rename", "metrics-append", "loss")

_epoch = 0  # the epoch being trained, so a fault can be aimed at one


def set_epoch(epoch: int) -> None:
    global _epoch
    _epoch = epoch


def _planned(point: str) -> str | None:
    for item in os.environ.get(ENV, "").split(","):
        action, _, where = item.strip().partition(":")
        name, _, epoch = where.partition("@")
        if name == point and (not epoch or int(epoch) == _epoch):
            return action
    return None


def hit(point: str) -> bool:
    """Apply the fault planned for this point, if any. True when the caller must apply it (`nan`)."""
    if not os.environ.get(ENV):
        return False
    action = _planned(point)
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "term":
        os.kill(os.getpid(), signal.SIGTERM)  # handled: the run stops at its next step
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return action == "nan"


def check_env() -> None:
    """Refuse a misspelt plan, so a fault test cannot pass because its fault never fired."""
    for item in filter(None, (i.strip() for i in os.environ.get(ENV, "").split(","))):
        action, _, where = item.partition(":")
        name, _, epoch = where.partition("@")
        if action not in ACTIONS or name not in POINTS or (epoch and not epoch.isdigit()):
            raise ConfigError(f"{ENV}={item!r}: want ACTION:POINT[@EPOCH], ACTION in {ACTIONS}, POINT in {POINTS}")
