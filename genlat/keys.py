"""Names that the metrics, the tracker, the run and the sweep share, kept below all of them so none
imports another (standard library only: `genlat sweep --status` must not import torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass

# What each metric key means (name, better side, role, the stamp's keys): genlat/metrics/registry.py.
STUDY_METRIC = "eval/fd"  # the study's measure of a run; lower is better
SWEEP_METRIC_ENV = "GENLAT_SWEEP_METRIC"  # genlat sweep hands a trial its file's `metric:` (JSON) in this
MORPH_KEY = "interpolation_morph"  # W&B: the final epoch's morph of each method, a video at MORPH_KEY/METHOD


def morph_key(method: str) -> str:
    """The W&B key of a method's morph (the tracker logs it, the W&B Report's media panel shows it)."""
    return f"{MORPH_KEY}/{method}"


@dataclass(frozen=True)
class Best:
    """What "best" means, defined once: a metric and its goal. A sweep's `metric:` decides (W&B's own
    rule); a run outside a sweep, or under a sweep genlat cannot read, uses the study's metric, the
    FD, minimized. The W&B summary (define_metric), best.pt, the offline search and
    `genlat sweep --status` all take the best over epochs by it."""

    name: str = STUDY_METRIC
    goal: str = "minimize"

    @classmethod
    def of(cls, metric: dict | None) -> Best:
        """From a sweep file's `metric:` ({name, goal}); the study's when it names none."""
        if isinstance(metric, dict) and metric.get("name"):
            return cls(str(metric["name"]), "maximize" if metric.get("goal") == "maximize" else "minimize")
        return cls()

    @property
    def summary(self) -> str:
        """W&B's define_metric(summary=...) that keeps this best in the run's summary."""
        return "max" if self.goal == "maximize" else "min"

    def value(self, rows: list[dict]) -> float | None:
        """The best finite value of the metric over these metrics rows, or None."""
        values = [r[self.name] for r in rows if _finite(r.get(self.name))]
        return (max if self.goal == "maximize" else min)(values) if values else None

    def epoch(self, rows: list[dict]) -> int | None:
        """The epoch that first reached the best value (a later tie does not replace it), or None."""
        best = self.value(rows)
        return next((r["epoch"] for r in rows if best is not None and r.get(self.name) == best), None)


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
