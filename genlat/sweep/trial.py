"""One trial of a sweep, and who runs it: the rows of sweep.json's "trials", as dataclasses.

A trial in sweep.json (its format is fixed: old sweep folders resume, older runners share new ones):
    {"index", "name", "id" (its W&B run id), "params" ({flag: value}), "search_info",
     "state": pending | running | finished | stopped | preempted | failed | diverged,
     "attempts", "failures", "exit_code", "error", "owner" ({host, pid, pid_start, pgid} while running),
     "heartbeat" (unix time), "started", "ended", "seconds" (all attempts), "epoch", "epochs",
     "history" ([{"epoch": n, METRIC: value}], from the run's metrics.jsonl), "best", "synced"}
`from_json` then `to_json` gives back the very record it was given (keys it does not know included).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any

from genlat.ids import new_id
from genlat.keys import Best
from genlat.records import Damaged
from genlat.rundir import RunDir

HOST_ENV = "GENLAT_HOSTNAME"  # this runner's host name, when the system's is not unique (containers)
STALE_ENV = "GENLAT_SWEEP_STALE_S"
# a running trial whose runner (on another host) has been silent this long is reclaimed
STALE_AFTER_S = float(os.environ.get(STALE_ENV) or 300)
HEARTBEAT_S = min(30.0, STALE_AFTER_S / 10)  # many beats per stale window: one late write is no death
STATES = ("pending", "running", "finished", "stopped", "preempted", "failed", "diverged")
DONE = ("finished", "stopped", "diverged")  # results: never run again


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def host() -> str:
    """Which machine this runner is on. Runners on one host tell a dead owner by its pid; across hosts
    only by its heartbeat, so two machines must never share a name: set GENLAT_HOSTNAME where they
    would (containers that all call themselves the same)."""
    return os.environ.get(HOST_ENV) or socket.gethostname()


class JsonRecord:
    """A dataclass read from and written back to one JSON object, key for key: a key the record did not
    hold is written back only once it differs from its default, and keys it does not know are kept.
    Every field has a default (the file's checks, state.py, say which keys must be there)."""

    extra: dict[str, Any]
    _held: frozenset[str]

    @classmethod
    def from_json(cls, data: dict[str, Any]):
        known = {f.name for f in fields(cls)} - {"extra"}
        record = cls(
            **{k: v for k, v in data.items() if k in known}, extra={k: v for k, v in data.items() if k not in known}
        )
        record._held = frozenset(data)
        return record

    def to_json(self) -> dict[str, Any]:
        held = getattr(self, "_held", None)
        out = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = _plain(getattr(self, f.name))
            if held is None or f.name in held or value != _default(f):
                out[f.name] = value
        return {**out, **self.extra}


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.to_json() if isinstance(value, JsonRecord) else value


def _default(f) -> Any:
    return f.default_factory() if callable(f.default_factory) else f.default


@dataclass
class Owner(JsonRecord):
    """The runner that claimed a running trial, and the trial's process group once it started."""

    host: str = ""
    pid: int = 0
    pid_start: str | None = None  # tells the process from a later one with the same pid
    pgid: int | None = None  # None between the claim and the start (or when the start failed)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def me(cls) -> Owner:
        from genlat.sweep.procs import process_start_time

        return cls(host(), os.getpid(), process_start_time(os.getpid()))

    def same_runner(self, other: Owner | None) -> bool:
        return other is not None and (self.host, self.pid, self.pid_start) == (other.host, other.pid, other.pid_start)

    def on_this_host(self) -> bool:
        return self.host == host()

    def alive(self, heartbeat: float | None) -> bool:
        """Is this runner still there? Exact on this host (the same process, not a reused pid), by its
        heartbeat on others: silent for less than GENLAT_SWEEP_STALE_S."""
        if not self.host or not self.pid:
            return False
        if self.on_this_host():
            from genlat.sweep.procs import process_start_time

            start = process_start_time(self.pid)
            return start is not None and start == self.pid_start
        return heartbeat is not None and time.time() - heartbeat < STALE_AFTER_S


@dataclass
class Trial(JsonRecord):
    index: int = 0
    name: str = ""
    id: str = ""  # the W&B run id, one for all the trial's attempts
    params: dict[str, Any] = field(default_factory=dict)
    search_info: dict | None = None
    state: str = "pending"
    attempts: int = 0
    failures: int = 0
    exit_code: int | None = None
    error: str = ""
    owner: Owner | None = None
    heartbeat: float | None = None
    started: str | None = None
    ended: str | None = None
    seconds: float = 0.0
    epoch: int = 0
    epochs: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    best: float | None = None
    synced: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, index: int, params: dict[str, Any], varying: list[str], search_info: dict | None) -> Trial:
        from genlat.sweep.state import safe_name

        label = "-".join(f"{k}{_short(params[k])}" for k in varying if k in params)
        name = safe_name(f"t{index:03d}-{label}".rstrip("-")[:80])
        return cls(index, name, new_id(), params, search_info, epochs=params.get("epochs"))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trial:
        trial = super().from_json(data)
        if isinstance(trial.owner, dict):  # {} too: an empty owner is no owner, written back as it was
            trial.owner = Owner.from_json(trial.owner)
        return trial

    # --- what happens to a trial ---------------------------------------------------------------
    def claim(self, owner: Owner) -> None:
        """This runner takes the trial: running, one attempt more, no process yet (owner.pgid None)."""
        self.state, self.attempts, self.heartbeat = "running", self.attempts + 1, time.time()
        self.owner = replace(owner, pgid=None, extra={})
        self.started, self.exit_code, self.error = self.started or now_iso(), None, ""
        self.id = self.id or new_id()  # a hand-made trial with no W&B run id gets one as it first runs

    def owned_by(self, owner: Owner, attempts: int) -> bool:
        """Is this still that runner's attempt (not taken over, not ended, by anybody)?"""
        return self.state == "running" and self.attempts == attempts and owner.same_runner(self.owner)

    def owner_alive(self) -> bool:
        return self.owner is not None and self.owner.alive(self.heartbeat)

    def preempt(self, error: str = "") -> None:
        self.state, self.owner, self.heartbeat, self.error = "preempted", None, None, error

    def end(self, outcome: str, exit_code: int | None, error: str, seconds: float) -> None:
        """The attempt is over: a result (finished, stopped, diverged), an interruption or a failure."""
        self.state, self.exit_code, self.ended, self.owner, self.heartbeat = outcome, exit_code, now_iso(), None, None
        self.error, self.seconds = error, round(self.seconds + seconds, 2)
        if outcome == "failed":
            self.failures += 1

    def progress_from(self, other: Trial) -> None:
        self.history, self.epoch, self.epochs, self.best = other.history, other.epoch, other.epochs, other.best

    def refresh(self, run: RunDir, best: Best) -> bool:
        """Copy the trial's progress from its run directory (the source of truth). True when it changed.
        A run folder whose files are damaged changes nothing here (the trial keeps what it had)."""
        try:
            rows = run.read_metrics()
            config = run.read_config() or {}
        except Damaged:
            return False
        history = [{"epoch": r["epoch"], **({best.name: r[best.name]} if best.name in r else {})} for r in rows]
        new = {"history": history, "epoch": rows[-1]["epoch"] if rows else 0,
               "epochs": config.get("epochs", self.epochs), "best": best.value(rows)}  # fmt: skip
        changed = any(getattr(self, k) != v for k, v in new.items())
        for k, v in new.items():
            setattr(self, k, v)
        return changed


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
