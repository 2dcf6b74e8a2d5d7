"""Ctrl-C (SIGINT) and SIGTERM noted, not raised: while a run starts (genlat.cli) and while it trains
(genlat.run stops at the next step, the last checkpoint its resume point). A KeyboardInterrupt raised
inside an import leaves a half-imported module behind (numpy then fails later with "module 'numpy' has
no attribute 'dtype'"), and a library that catches it broadly can swallow it, so the run trains on.
Imports nothing heavy.

Work that only computes and can take long (reading a dataset, training a feature net on first use)
runs inside `Deferred.prompt()`: there a signal raises StopRequested at once, so a stop is honoured
within seconds in every phase of a run's start, not after it."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def take_back_sigint() -> None:
    """A process a shell starts in the background (`cmd &` in a script, nohup jobs, some CI runners)
    inherits SIGINT ignored, and Python then keeps it ignored: W&B's stop request (an interrupt of the
    main thread) and genlat's own stop would never arrive. Python's handler comes back."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class StopRequested(KeyboardInterrupt):
    """SIGINT/SIGTERM inside `Deferred.prompt()`: the command ends as preempted (exit 75). A
    KeyboardInterrupt, so `except Exception` in a library cannot swallow it."""


class Deferred:
    """Within the block, SIGINT/SIGTERM set `raised` instead of interrupting (inside `prompt()`, they
    raise StopRequested)."""

    def __init__(self):
        self.raised = False
        self._old = {}
        self._prompt = 0

    @contextmanager
    def prompt(self) -> Iterator[None]:
        """Work that writes nothing: a stop requested before or during it raises StopRequested now."""
        if self.raised:
            raise StopRequested()
        self._prompt += 1
        try:
            yield
        finally:
            self._prompt -= 1

    def __enter__(self):
        for sig in SIGNALS:
            self._old[sig] = signal.signal(sig, self._note)
        return self

    def _note(self, signum, frame):
        self.raised = True
        if self._prompt:
            raise StopRequested()

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
