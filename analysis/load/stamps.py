"""Measurement stamps: which numbers may be compared. A metrics line records the feature space (with
its weights' hash), the evaluation sample count and the metric code's version; numbers are compared
only between runs whose three values are equal, as FID scores are only comparable under the same
Inception weights and sample count (Heusel et al. 2017; Chong & Forsyth 2020 on the sample bias)."""

from __future__ import annotations

from analysis.load.runs import RunRecord
from genlat.metrics.registry import STAMP_KEYS


def has_eval_numbers(line: dict) -> bool:
    return any(k.startswith("eval/") and isinstance(v, (int, float)) and not isinstance(v, bool)
               for k, v in line.items() if k not in STAMP_KEYS)  # fmt: skip


def run_stamp(run: RunRecord) -> tuple:
    """The stamp of the run's last line with eval numbers: the line its final values come from."""
    lines = [m for m in run.metrics if has_eval_numbers(m)]
    return tuple(lines[-1].get(k) for k in STAMP_KEYS) if lines else (None, None, None)


def describe(stamp: tuple) -> str:
    space, samples, version = stamp
    if space is None and samples is None and version is None:
        return "no evaluation numbers"
    text = f"feature space {space or 'unnamed'}, {samples if samples is not None else '?'} samples"
    return text + (
        f", metric version {version}" if version is not None else ", no metric version (written before the stamp)"
    )


def group_by_stamp(runs: list[RunRecord]) -> list[tuple[tuple, list[RunRecord]]]:
    """Runs split into comparable groups, the largest group first."""
    groups: dict[tuple, list[RunRecord]] = {}
    for r in runs:
        groups.setdefault(run_stamp(r), []).append(r)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), describe(kv[0])))


def split_note(groups: list[tuple[tuple, list[RunRecord]]]) -> str | None:
    """One line saying why the report is split, or None when every run carries the same stamp."""
    if len(groups) < 2:
        return None
    parts = "; ".join(f"group {i} ({describe(s)}): {len(rs)} run(s)" for i, (s, rs) in enumerate(groups, 1))
    return (f"The runs carry {len(groups)} different measurement stamps (feature space, evaluation samples, metric "
            f"version), and numbers with different stamps are on different scales, so each group is reported on its "
            f"own and never compared with another: {parts}.")  # fmt: skip
