"""What the server holds, in memory: runs, their files and history, artifacts, sweeps, agents,
reports (views). One lock (`Store.lock`) serialises every request, so handlers need no locking.
`ServerRun` is the contract between the run-logging handlers (runs.py, which write it) and the
sweep controller and the public API (which read it)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ServerRun:
    entity: str
    project: str
    name: str  # the run id (W&B calls it `name`; the display name is `display_name`)
    display_name: str = ""
    config: dict[str, Any] = field(default_factory=dict)  # plain key -> value (W&B's {"value": ...} unwrapped)
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)  # each wandb-history.jsonl line, parsed, in order
    events: list[dict[str, Any]] = field(default_factory=list)  # system metrics lines
    output: list[str] = field(default_factory=list)  # console lines
    files: dict[str, str] = field(default_factory=dict)  # file name in the run -> storage key in Store.blobs
    state: str = "pending"  # pending, running, finished, failed, crashed, killed, preempting, preempted
    sweep: str | None = None  # the sweep's name (W&B's sweep id)
    group: str | None = None
    job_type: str | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    exitcode: int | None = None
    stop_requested: bool = False  # the server (UI, hyperband) asked this run to stop
    upserts: int = 0  # how many times the client upserted it (a resume upserts again)
    created_at: float = field(default_factory=time.time)
    heartbeat_at: float = field(default_factory=time.time)
    storage_id: str = ""  # the run's opaque GraphQL id


@dataclass
class Store:
    lock: threading.RLock = field(default_factory=threading.RLock)
    base_url: str = ""
    entity: str = "genlat-tests"  # the viewer's entity (the user's default)
    runs: dict[tuple[str, str, str], ServerRun] = field(default_factory=dict)  # (entity, project, run id) -> run
    blobs: dict[str, bytes] = field(default_factory=dict)  # storage key -> bytes (uploaded files, artifacts)
    artifacts: dict[str, Any] = field(default_factory=dict)
    sweeps: dict[tuple[str, str, str], Any] = field(default_factory=dict)  # (entity, project, sweep name) -> sweep
    agents: dict[str, Any] = field(default_factory=dict)
    views: dict[str, Any] = field(default_factory=dict)  # reports
    calls: list[str] = field(default_factory=list)  # every operation answered, in order
    unknown: list[str] = field(default_factory=list)  # every operation or route not implemented
    counter: int = 0
    # wandb's ServerFeature names ServerFeaturesQuery reports as enabled (runs.py answers it); add one
    # where a test needs the client's newer code path (e.g. sweeps: SWEEPS_LOCAL_SCHEDULER)
    features: set[str] = field(default_factory=set)
    # a run whose file stream is silent this long is preempted (if it said preempting) or crashed (if
    # running) when next read (runs.settle; W&B's server waits minutes, a test may shorten it)
    silent_after_s: float = 120.0

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:06d}"

    def run(self, entity: str, project: str, name: str) -> ServerRun:
        """The run, created (pending) on first mention."""
        key = (entity or self.entity, project, name)
        if key not in self.runs:
            self.runs[key] = ServerRun(key[0], project, name, storage_id=self.new_id("run"))
        return self.runs[key]
