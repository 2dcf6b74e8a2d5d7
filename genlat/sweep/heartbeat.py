"""The runner's heartbeat, in a thread of its own: every HEARTBEAT_S it writes the time into each
trial it owns, under the sweep lock, whatever the main loop is doing (stopping an orphan, waiting for
a trial's group, a slow search). A runner on another host takes a trial over only after its owner has
been silent for GENLAT_SWEEP_STALE_S, so an alive runner must never fall silent for that long.

A trial that is no longer this runner's attempt (another runner took it over while this one was
frozen or cut off) is reported in `lost`: the main loop stops its copy and records nothing for it.
"""

from __future__ import annotations

import threading
import time

from genlat.sweep.state import SweepState
from genlat.sweep.trial import HEARTBEAT_S, Owner


class Heartbeat:
    def __init__(self, state: SweepState, me: Owner, every_s: float = HEARTBEAT_S):
        self.state, self.me, self.every_s = state, me, every_s
        self.owned: dict[str, int] = {}  # trial name -> the attempt this runner owns
        self.lost: set[str] = set()
        self.error: Exception | None = None
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweep-heartbeat", daemon=True)

    def own(self, name: str, attempts: int) -> None:
        with self._mutex:
            self.owned[name] = attempts
            self.lost.discard(name)

    def disown(self, name: str) -> None:
        with self._mutex:
            self.owned.pop(name, None)
            self.lost.discard(name)

    def take_lost(self) -> set[str]:
        """The trials found taken over since the last call (and no longer beaten for)."""
        with self._mutex:
            lost, self.lost = self.lost, set()
        return lost

    def check(self) -> None:
        """Raise, in the main loop, what stopped the heartbeat (a sweep folder that cannot be written)."""
        if self.error is not None:
            raise self.error

    def beat(self) -> None:
        with self._mutex:
            owned = dict(self.owned)
        if not owned:
            return
        lost = set()
        with self.state.transaction() as sweep:
            now = time.time()
            for t in sweep.trials:
                if t.name not in owned:
                    continue
                if t.owned_by(self.me, owned[t.name]):
                    t.heartbeat = now
                else:
                    lost.add(t.name)
        with self._mutex:
            for name in lost:
                if self.owned.get(name) == owned[name]:
                    del self.owned[name]
                    self.lost.add(name)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.beat()
            except Exception as e:  # e.g. a full disk (one line, exit 4): the main loop raises it
                self.error = e
                return

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
