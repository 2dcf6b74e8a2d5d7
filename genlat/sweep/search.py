"""Every search decision is W&B's own code: `sweeps.next_runs` (grid, random, bayes) proposes the next
trial from all trials so far, `sweeps.stop_runs` (hyperband) names running trials to stop. This file
only translates trials into the package's `SweepRun`s and its answers back into plain values.
"""

from __future__ import annotations

from typing import Any

from genlat.keys import Best
from genlat.sweep.spec import import_sweeps
from genlat.sweep.trial import Trial

# genlat's trial states as the package knows them. A trial stopped by hyperband has a real (partial)
# metric history, so it counts as finished; a diverged one is a failure (bayes imputes it).
RUN_STATE = {
    "pending": "pending",
    "running": "running",
    "finished": "finished",
    "stopped": "finished",
    "preempted": "preempted",
    "failed": "failed",
    "diverged": "failed",
}


def sweep_runs(trials: list[Trial], best: Best) -> list:
    sweeps = import_sweeps()
    runs = []
    for t in trials:
        history = [{best.name: h[best.name]} for h in t.history if best.name in h]
        value = best.value(history)
        runs.append(
            sweeps.SweepRun(
                name=t.name,
                state=RUN_STATE[t.state],
                config={k: {"value": v} for k, v in t.params.items()},
                history=history,
                # the run's best, as its W&B summary holds it (genlat.tracking: define_metric(summary=min|max))
                summary_metrics={best.name: value} if value is not None else {},
            )
        )
    return runs


def propose(sweep_config, trials: list[Trial], best: Best) -> tuple[dict, dict | None] | None:
    """The next trial's parameters and the search's notes on it, or None when the search is done (grid)."""
    (suggestion,) = import_sweeps().next_runs(sweep_config, sweep_runs(trials, best), n=1)
    if suggestion is None:
        return None
    params = {k: plain(v["value"]) for k, v in suggestion.config.items()}
    return params, plain(suggestion.search_info)


def to_stop(sweep_config, trials: list[Trial], best: Best) -> list[str]:
    """Names of running trials that hyperband would stop now."""
    return [r.name for r in import_sweeps().stop_runs(sweep_config, sweep_runs(trials, best))]


def plain(value: Any) -> Any:
    """numpy scalars and arrays into JSON-ready Python values (the package returns numpy floats)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalar or array
        return plain(value.tolist())
    return value
