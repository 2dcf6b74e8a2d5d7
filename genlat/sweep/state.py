"""The sweep's memory: DIR/sweep.json, read and changed only under a lock on DIR/.sweep.lock.

    DIR/
      sweep.yaml        a copy of the sweep file; a different file pointed at DIR is refused
      sweep.json        the sweep's state (below), replaced atomically at each change
      .sweep.lock       fcntl.flock'ed around every read-modify-write (several runners may share DIR)
      runs/TRIAL/       each trial's run directory (train.py's own layout, W&B offline run inside)
      logs/TRIAL.log    each trial's stdout and stderr, every attempt appended

sweep.json: {"version", "sweep_id", "name", "group" (NAME-SWEEP_ID: the trials' W&B group, this sweep's
alone), "file", "fingerprint", "method", "metric": {"name", "goal"}, "created", "trials": [trial, ...]},
and a trial is
    {"index", "name", "id" (its W&B run id), "params" ({flag: value}), "search_info",
     "state": pending | running | finished | stopped | preempted | failed | diverged,
     "attempts", "failures", "exit_code", "error", "owner" ({host, pid, pid_start, pgid} while running),
     "heartbeat" (unix time), "started", "ended", "seconds" (all attempts), "epoch", "epochs",
     "history" ([{"epoch": n, METRIC: value}], from the run's metrics.jsonl), "best", "synced"}
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from genlat.atomic import atomic_write_bytes, atomic_write_json
from genlat.errors import ConfigError, OutputError
from genlat.ids import new_id
from genlat.keys import Best
from genlat.lockfile import NotALockFile, held, open_lock
from genlat.records import Damaged, read_json
from genlat.rundir import RunDir
from genlat.sweep.procs import process_start_time

VERSION = 1
HOST_ENV = "GENLAT_HOSTNAME"  # this runner's host name, when the system's is not unique (containers)
STALE_ENV = "GENLAT_SWEEP_STALE_S"
# a running trial whose runner (on another host) has been silent this long is reclaimed
STALE_AFTER_S = float(os.environ.get(STALE_ENV) or 300)
HEARTBEAT_S = min(30.0, STALE_AFTER_S / 10)  # many beats per stale window: one late write is no death
DONE = ("finished", "stopped", "diverged")  # results: never run again
TRIAL_STATES = ("pending", "running", "finished", "stopped", "preempted", "failed", "diverged")
NAME_MAX = 100  # bytes of a sweep's or a trial's folder name
SWEEP_KEYS = ("sweep_id", "name", "method", "fingerprint", "trials")
TRIAL_KEYS = ("name", "state", "params", "attempts", "epoch", "seconds", "owner", "heartbeat")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def host() -> str:
    """Which machine this runner is on. Runners on one host tell a dead owner by its pid; across hosts
    only by its heartbeat, so two machines must never share a name: set GENLAT_HOSTNAME where they
    would (containers that all call themselves the same)."""
    return os.environ.get(HOST_ENV) or socket.gethostname()


def owner_record(pgid: int | None = None) -> dict[str, Any]:
    return {"host": host(), "pid": os.getpid(), "pid_start": process_start_time(os.getpid()), "pgid": pgid}


def owner_alive(owner: dict[str, Any] | None, heartbeat: float | None) -> bool:
    """Is the runner that claimed a trial still there? Exact on this host, by heartbeat on others."""
    if not owner:
        return False
    if owner.get("host") == host():
        start = process_start_time(owner["pid"])
        return start is not None and start == owner.get("pid_start")  # the same process, not a reused pid
    return heartbeat is not None and time.time() - heartbeat < STALE_AFTER_S


class SweepState:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.file = self.root / "sweep.json"
        self.spec_copy = self.root / "sweep.yaml"
        self.lock_file = self.root / ".sweep.lock"
        self.runs = self.root / "runs"
        self.logs = self.root / "logs"

    def exists(self) -> bool:
        return self.file.is_file()

    def read(self) -> dict[str, Any]:
        """A consistent snapshot without the lock (every write is an atomic rename), validated: a
        sweep.json of the wrong shape or types is one line naming it, never a traceback later."""
        try:
            data = read_json(self.file)
        except Damaged as e:
            raise OutputError(f"cannot read {self.file}: {e.why}") from None
        if data is None:
            raise OutputError(f"{self.root} is not a genlat sweep directory (no sweep.json)")
        if problem := _shape_problem(data):
            raise OutputError(f"{self.file} is damaged ({problem}): restore it from a backup, "
                              "or run the sweep in another --dir")
        return data

    def require(self, flag: str) -> dict[str, Any]:
        """The state, for commands that are handed DIR (--status, --sync): a folder that is not a
        sweep is a wrong argument (exit 2), not an output problem."""
        if not self.exists():
            raise ConfigError(f"{flag} {self.root}: not a genlat sweep directory (no sweep.json); "
                              "give the --dir of a sweep")
        return self.read()

    @contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under the lock; the state is written back only when it changed. A folder
        that cannot be written (a read-only or full filesystem) is one line, exit 4."""
        with self._lock():
            data = self.read()
            before = _canonical(data)
            yield data
            if _canonical(data) != before:
                try:
                    atomic_write_json(self.file, data)
                except OSError as e:
                    raise self.write_error(e) from None

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """The sweep lock: DIR/.sweep.lock, a regular file (never through a link, and a FIFO planted
        there cannot block the open). Each use opens its own descriptor: threads exclude each other too."""
        try:
            fd = open_lock(self.lock_file)
        except NotALockFile as e:
            what = "not a regular file" if e.what == "not a regular file" else "a link or a FIFO"
            raise OutputError(f"{self.lock_file} is not genlat's lock file ({what}): remove it, then "
                              "re-run the same command") from None
        except OSError as e:
            raise self.write_error(e) from None
        with held(fd):
            yield

    def write_error(self, e: OSError) -> OutputError:
        full = " (the disk is full: free some, then re-run the same command)" if e.errno == errno.ENOSPC else ""
        return OutputError(f"cannot write the sweep directory {self.root}: {e.strerror or e}{full}; "
                           "pick another --dir, or make it writable")

    def create_or_check(self, spec) -> dict[str, Any]:
        """Start a new sweep in DIR, or make sure DIR holds this very sweep. Nothing is written on refusal."""
        if not self.exists():
            # A folder with our lock file is a sweep another runner is creating right now.
            foreign = self.root.exists() and (
                not self.root.is_dir() or (any(self.root.iterdir()) and not self.lock_file.exists())
            )
            if foreign:
                raise OutputError(f"{self.root} exists and is not a genlat sweep directory; pick another --dir")
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise OutputError(f"cannot create {self.root}: {e.strerror}; pick another --dir") from None
        with self._lock():
            try:
                if self.exists():  # another runner may have created it while we waited
                    data = self.read()
                    if data.get("fingerprint") != spec.fingerprint:
                        raise OutputError(
                            f"{self.root} holds the sweep {data.get('name')!r} of another sweep file "
                            f"(its copy: {self.spec_copy}); use that file, or another --dir"
                        )
                    return data
                if any(p != self.lock_file for p in self.root.iterdir()):  # not ours, and nobody is creating it
                    raise OutputError(f"{self.root} exists and is not a genlat sweep directory; pick another --dir")
                sweep_id = new_id()
                data = {
                    "version": VERSION,
                    "sweep_id": sweep_id,
                    "name": spec.name,
                    "group": f"{spec.name}-{sweep_id}",  # two sweeps of one file must not merge on the server
                    "file": str(spec.path),
                    "fingerprint": spec.fingerprint,
                    "method": spec.method,
                    "metric": {"name": spec.metric, "goal": spec.goal} if spec.metric else None,
                    "created": now_iso(),
                    "trials": [],
                }
                for d in (self.runs, self.logs):
                    d.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(self.spec_copy, spec.text.encode())
                atomic_write_json(self.file, data)
                return data
            except OSError as e:
                raise self.write_error(e) from None

    def run_dir(self, trial: dict[str, Any]) -> RunDir:
        return RunDir(self.runs / trial["name"])

    def log_path(self, trial: dict[str, Any]) -> Path:
        return self.logs / f"{trial['name']}.log"


def _canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True)


def safe_name(text: str, fallback: str = "sweep") -> str:
    """`text` as one safe path component: letters, digits, '-', '_' and '.' kept, anything else '_',
    no leading dot (so never '.' or '..'), at most NAME_MAX bytes. A sweep's name and its trials'
    become folder names: `name: ../../x` in a sweep file must not place the sweep outside runs/."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", str(text)).lstrip(".")[:NAME_MAX]
    return name or fallback


# sweep.json's format: what each key must hold (None: may be null); checked on every read
_NUMBER = (int, float)
_SWEEP_TYPES = {"sweep_id": (str,), "name": (str,), "method": (str,), "fingerprint": (str,), "trials": (list,),
                "metric": (dict, type(None)), "group": (str, type(None))}  # fmt: skip
_TRIAL_TYPES = {"name": (str,), "params": (dict,), "state": (str,), "attempts": (int,), "failures": (int,),
                "epoch": (int,), "epochs": (int, type(None)), "seconds": _NUMBER, "owner": (dict, type(None)),
                "heartbeat": (*_NUMBER, type(None)), "history": (list,), "best": (*_NUMBER, type(None)),
                "exit_code": (int, type(None)), "error": (str, type(None)), "id": (str,), "synced": (bool,),
                "index": (int,)}  # fmt: skip


def _shape_problem(data: Any) -> str | None:
    """What is wrong with a sweep.json that parses (e.g. `{}`, `[]`, `attempts: "one"`, an unknown
    state, a trial name that is a path), in a few words; None if fine."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    if missing := [k for k in SWEEP_KEYS if k not in data]:
        return f"no {', '.join(missing)}"
    if bad := _wrong_types(data, _SWEEP_TYPES):
        return bad
    names = set()
    for i, t in enumerate(data["trials"]):
        if not isinstance(t, dict) or not isinstance(t.get("name"), str) or not isinstance(t.get("params"), dict):
            return f"trial {i} is not a trial"
        if missing := [k for k in TRIAL_KEYS if k not in t]:
            return f"trial {t['name']} has no {', '.join(missing)}"
        if bad := _wrong_types(t, _TRIAL_TYPES):
            return f"trial {i}: {bad}"
        if t["name"] != safe_name(t["name"], "") or t["name"] in names:
            return f"trial {i}'s name {t['name'][:60]!r} is not a folder name of its own"
        names.add(t["name"])
        if t["state"] not in TRIAL_STATES:
            return f"trial {t['name']}'s state is {t['state'][:30]!r}, not one of {', '.join(TRIAL_STATES)}"
        if min(t["attempts"], t.get("failures", 0), t["epoch"]) < 0:
            return f"trial {t['name']} has a negative count"
        owner = t["owner"] or {}
        if owner and (not isinstance(owner.get("host"), str) or type(owner.get("pid")) is not int):
            return f"trial {t['name']}'s owner is not a host and pid"
    return None


def _wrong_types(record: dict, types: dict[str, tuple]) -> str | None:
    for key, allowed in types.items():
        if key in record and type(record[key]) not in allowed:  # type(True) is bool: never an int here
            value = record[key]
            return f"{key} is {type(value).__name__} {str(value)[:30]!r}"
    return None


def wandb_group(data: dict[str, Any]) -> str:
    """The trials' W&B group; a sweep.json from before groups were unique used the sweep's name."""
    return data.get("group") or data["name"]


def new_trial(index: int, params: dict[str, Any], varying: list[str], search_info: dict | None) -> dict[str, Any]:
    label = "-".join(f"{k}{_short(params[k])}" for k in varying if k in params)
    name = safe_name(f"t{index:03d}-{label}".rstrip("-")[:80])
    return {
        "index": index, "name": name, "id": new_id(), "params": params, "search_info": search_info,
        "state": "pending", "attempts": 0, "failures": 0, "exit_code": None, "error": "", "owner": None,
        "heartbeat": None, "started": None, "ended": None, "seconds": 0.0, "epoch": 0, "epochs": params.get("epochs"),
        "history": [], "best": None, "synced": False,
    }  # fmt: skip


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def refresh_from_run(trial: dict[str, Any], run: RunDir, best: Best) -> bool:
    """Copy the trial's progress from its run directory (the source of truth). True when it changed.
    A run folder whose files are damaged changes nothing here (the trial keeps what it had)."""
    try:
        rows = run.read_metrics()
        config = run.read_config() or {}
    except Damaged:
        return False
    history = [{"epoch": r["epoch"], **({best.name: r[best.name]} if best.name in r else {})} for r in rows]
    epochs = config.get("epochs", trial.get("epochs"))
    epoch = rows[-1]["epoch"] if rows else 0
    new = {"history": history, "epoch": epoch, "epochs": epochs, "best": best.value(rows)}
    changed = any(trial.get(k) != v for k, v in new.items())
    trial.update(new)
    return changed


def read_status(run: RunDir) -> dict[str, Any]:
    """The run's status.json, {} when it is missing or damaged."""
    try:
        return run.read_status() or {}
    except Damaged:
        return {}
