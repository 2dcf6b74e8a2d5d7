"""The sweep's memory: DIR/sweep.json, read and changed only under a lock on DIR/.sweep.lock.

    DIR/
      sweep.yaml        a copy of the sweep file; a different file pointed at DIR is refused
      sweep.json        the sweep's state (below), replaced atomically at each change
      .sweep.lock       fcntl.flock'ed around every read-modify-write (several runners may share DIR)
      runs/TRIAL/       each trial's run directory (train.py's own layout, W&B offline run inside)
      logs/TRIAL.log    each trial's stdout and stderr, every attempt appended

sweep.json: {"version", "sweep_id", "name", "group" (NAME-SWEEP_ID: the trials' W&B group, this sweep's
alone), "file", "fingerprint", "method", "metric": {"name", "goal"}, "created", "trials": [trial, ...]}:
a `Sweep` here, its trials `Trial`s (trial.py, which has a trial's keys). `SweepState.transaction()`
is the read-modify-write of a runner; `read()` and `locked()` give the file as JSON to the tools and
tests that read or write it as such.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genlat.atomic import atomic_write_bytes, atomic_write_json
from genlat.errors import ConfigError, OutputError
from genlat.ids import new_id
from genlat.keys import Best
from genlat.lockfile import NotALockFile, held, open_lock
from genlat.records import Damaged, read_json
from genlat.rundir import RunDir
from genlat.sweep.trial import STATES, JsonRecord, Trial, now_iso

VERSION = 1
NAME_MAX = 100  # bytes of a sweep's or a trial's folder name
SWEEP_KEYS = ("sweep_id", "name", "method", "fingerprint", "trials")
TRIAL_KEYS = ("name", "state", "params", "attempts", "epoch", "seconds", "owner", "heartbeat")


@dataclass
class Sweep(JsonRecord):
    """sweep.json as a whole: what the sweep is, and its trials."""

    version: int = VERSION
    sweep_id: str = ""
    name: str = ""
    group: str | None = None  # None in a sweep.json from before groups were unique
    file: str | None = None
    fingerprint: str = ""
    method: str = ""
    metric: dict[str, Any] | None = None
    created: str | None = None
    trials: list[Trial] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sweep:
        sweep = super().from_json(data)
        sweep.trials = [Trial.from_json(t) for t in sweep.trials]
        return sweep

    @property
    def wandb_group(self) -> str:
        """The trials' W&B group; a sweep.json from before groups were unique used the sweep's name."""
        return self.group or self.name

    def trial(self, name: str) -> Trial:
        return next(t for t in self.trials if t.name == name)


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
            raise OutputError(
                f"{self.file} is damaged ({problem}): restore it from a backup, or run the sweep in another --dir"
            )
        return data

    def require(self, flag: str) -> dict[str, Any]:
        """The state, for commands that are handed DIR (--status, --sync): a folder that is not a
        sweep is a wrong argument (exit 2), not an output problem."""
        if not self.exists():
            raise ConfigError(
                f"{flag} {self.root}: not a genlat sweep directory (no sweep.json); give the --dir of a sweep"
            )
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

    def load(self) -> Sweep:
        return Sweep.from_json(self.read())

    @contextmanager
    def transaction(self) -> Iterator[Sweep]:
        """`locked()` as a `Sweep`: decisions made in the block are made on a fresh read, under the lock."""
        with self.locked() as data:
            sweep = Sweep.from_json(data)
            yield sweep
            data.clear()
            data.update(sweep.to_json())

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """The sweep lock: DIR/.sweep.lock, a regular file (never through a link, and a FIFO planted
        there cannot block the open). Each use opens its own descriptor: threads exclude each other too."""
        try:
            fd = open_lock(self.lock_file)
        except NotALockFile as e:
            what = "not a regular file" if e.what == "not a regular file" else "a link or a FIFO"
            raise OutputError(
                f"{self.lock_file} is not genlat's lock file ({what}): remove it, then re-run the same command"
            ) from None
        except OSError as e:
            raise self.write_error(e) from None
        with held(fd):
            yield

    def write_error(self, e: OSError) -> OutputError:
        full = " (the disk is full: free some, then re-run the same command)" if e.errno == errno.ENOSPC else ""
        return OutputError(
            f"cannot write the sweep directory {self.root}: {e.strerror or e}{full}; "
            "pick another --dir, or make it writable"
        )

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

    def run_dir(self, trial: Trial | dict[str, Any]) -> RunDir:
        return RunDir(self.runs / _name(trial))

    def log_path(self, trial: Trial | dict[str, Any]) -> Path:
        return self.logs / f"{_name(trial)}.log"


def _name(trial: Trial | dict[str, Any]) -> str:
    return trial.name if isinstance(trial, Trial) else trial["name"]


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
        if t["state"] not in STATES:
            return f"trial {t['name']}'s state is {t['state'][:30]!r}, not one of {', '.join(STATES)}"
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


# --- sweep.json's trials as JSON, for fixtures and tools that write the file as such -------------------
def new_trial(index: int, params: dict[str, Any], varying: list[str], search_info: dict | None) -> dict[str, Any]:
    return Trial.new(index, params, varying, search_info).to_json()


def refresh_from_run(trial: dict[str, Any], run: RunDir, best: Best) -> bool:
    """`Trial.refresh` on a trial's JSON record, changed in place."""
    record = Trial.from_json(trial)
    changed = record.refresh(run, best)
    trial.update(record.to_json())
    return changed
