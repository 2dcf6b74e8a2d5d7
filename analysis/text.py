"""How the report writes a number: 3 significant digits (2 for a half-width or a p-value), and a gap
between two values as a share (or, against a value near zero, as the absolute difference)."""

from __future__ import annotations

import math

MAX_SHARE = 10.0  # a gap of 1000 % or more is a ratio against a value near zero: say the absolute difference


def fmt(x: float, digits: int = 3) -> str:
    """x at `digits` significant digits: 0.813, 29.8, 1,230 (no exponent from 0.001 to a million)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e6 or abs(x) < 1e-3:
        return f"{x:.{digits}g}"
    x = float(f"{x:.{digits}g}")  # rounded first: 99.96 is 100, not 100.0
    exponent = math.floor(math.log10(abs(x)))
    if exponent >= digits - 1:  # an integer once rounded: 1,230 rather than 1.23e+03
        return f"{x:,.0f}"
    return f"{x:.{digits - 1 - exponent}f}"


def gap(a: float, b: float) -> str:
    """How far a is from b, as a share of b ('7%'), or as the absolute difference when that share is huge."""
    share = abs(a - b) / abs(b) if b else math.inf
    if share >= MAX_SHARE:
        return fmt(abs(a - b))
    return f"{share:.0%}" if share >= 0.01 else f"{share:.2%}"
