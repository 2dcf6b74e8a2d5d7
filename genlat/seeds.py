"""Seeds derived from the run's seed, so every stream (per-epoch noise, evaluation z) is reproducible."""

from __future__ import annotations

import hashlib


def derived_seed(*parts) -> int:
    """A stable 63-bit seed from any parts (same value in every process and Python version)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)
