"""The numbers the report is made of, pulled out of a Study: which eval keys exist, final values
per setting and seed, mean curves over seeds."""

from __future__ import annotations

import math

from analysis.load.runs import RunRecord
from analysis.load.study import Setting
from genlat.metrics import registry


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def eval_keys(runs: list[RunRecord]) -> list[str]:
    """Every numeric eval/* key any run logged that measures the generator (no timings, no stamp), in
    the registry's order: new metrics show up without code changes."""
    found = {k for r in runs for m in r.metrics for k, v in m.items() if k.startswith("eval/") and _is_number(v)}
    return registry.ordered(k for k in found if registry.is_measure(k))


def plotted_keys(runs: list[RunRecord], question: str) -> list[str]:
    """The logged keys that `question`'s metric panels plot (the registry's `plotted`): eval/* keys in
    the report's order, then the training curves (GAN, then VAE)."""
    training = [
        k for k in registry.in_order(registry.TRAINING) if any(_is_number(m.get(k)) for r in runs for m in r.metrics)
    ]
    return [k for k in eval_keys(runs) + training if question in registry.metric(k).plotted]


def headline_keys(keys: list[str]) -> list[str]:
    """Of `keys`, those whose differences between settings are tested against seed noise, in the registry's order."""
    return [m.key for m in registry.METRICS if m.headline and m.key in keys]


def final_value(run: RunRecord, key: str) -> tuple[int, float] | None:
    """(epoch, value) of the last epoch that logged a finite `key`."""
    pts = [(e, v) for e, v in run.series(key) if math.isfinite(v)]
    return pts[-1] if pts else None


def final_number(run: RunRecord, key: str) -> float | None:
    return fv[1] if (fv := final_value(run, key)) else None


def finals(setting: Setting, key: str) -> list[float]:
    return [fv[1] for r in setting.runs if (fv := final_value(r, key))]


def final_epochs(settings: list[Setting], key: str) -> set[int]:
    return {fv[0] for s in settings for r in s.runs if (fv := final_value(r, key))}


def mean_curve(setting: Setting, key: str) -> list[tuple[int, float]]:
    """(epoch, mean over the setting's seeds) for every epoch at least one seed logged."""
    by_epoch: dict[int, list[float]] = {}
    for r in setting.runs:
        for e, v in r.series(key):
            if math.isfinite(v):
                by_epoch.setdefault(e, []).append(v)
    return [(e, sum(v) / len(v)) for e, v in sorted(by_epoch.items())]


def seed_table(settings: list[Setting], finals_by_run) -> dict[str, dict]:
    """setting label -> {seed (or run name without one): final value}; finals_by_run(run) -> value or None."""
    out = {}
    for st in settings:
        values = {}
        for r in st.runs:
            if (v := finals_by_run(r)) is not None:
                values[r.config.get("seed", r.name)] = v
        if values:
            out[st.label] = values
    return out


def finals_by_seed(settings: list[Setting], key: str) -> dict[str, dict]:
    """setting label -> {seed: the run's final value of `key`}."""
    return seed_table(settings, lambda r: final_number(r, key))


def seed_lists(settings: list[Setting], key: str) -> dict[str, list[float]]:
    """setting label -> the final values of `key`, one per seed."""
    return {label: list(v.values()) for label, v in finals_by_seed(settings, key).items()}


def feature_space_names(runs: list[RunRecord]) -> set[str]:
    return {m["eval/feature_space"] for r in runs for m in r.metrics if isinstance(m.get("eval/feature_space"), str)}


def last_epoch(run: RunRecord) -> int:
    return run.metrics[-1]["epoch"] if run.metrics else 0


def exploratory(settings: list[Setting]):
    """The exploratory family: every eval measure the runs logged × every pair of settings, one
    t-test each (analysis/stats.py: compare), Benjamini-Hochberg over all of them."""
    from analysis import stats

    keys = eval_keys([r for st in settings for r in st.runs])
    return stats.explore({k: finals_by_seed(settings, k) for k in keys})
