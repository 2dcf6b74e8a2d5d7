"""How the report writes a number: significant digits, and a gap between two values as a share
(or, against a value near zero, as the absolute difference)."""

from __future__ import annotations

import math

MAX_SHARE = 10.0  # a gap of 1000 % or more is a ratio against a value near zero: say the absolute difference


def fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.3g}"
    return f"{x:.4g}"


def gap(a: float, b: float) -> str:
    """How far a is from b, as a share of b ('7%'), or as the absolute difference when that share is huge."""
    share = abs(a - b) / abs(b) if b else math.inf
    if share >= MAX_SHARE:
        return fmt(abs(a - b))
    return f"{share:.0%}" if share >= 0.01 else f"{share:.2%}"
