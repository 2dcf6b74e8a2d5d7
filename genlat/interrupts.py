"""Ctrl-C (SIGINT) and SIGTERM noted, not raised: while a run starts (genlat.cli) and while it trains
(genlat.run stops at the next step, the last checkpoint its resume point). A KeyboardInterrupt raised inside an import leaves a half-imported
module behind (numpy then fails later with "module 'numpy' has no attribute 'dtype'"), and a library
that catches it broadly can swallow it, so the run trains on. Imports nothing heavy."""

from __future__ import annotations

import signal

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Deferred:
    """Within the block, SIGINT/SIGTERM set `raised` instead of interrupting."""

    def __init__(self):
        self.raised = False
        self._old = {}

    def __enter__(self):
        for sig in SIGNALS:
            self._old[sig] = signal.signal(sig, self._note)
        return self

    def _note(self, signum, frame):
        self.raised = True

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
