"""The numbers the report is made of, pulled out of a Study: which eval keys exist, final values
per setting and seed, mean curves over seeds."""

from __future__ import annotations

import math

from analysis.runs import RunRecord
from analysis.study import Setting

# Shown first, in this order, when present; every other numeric eval/* key follows alphabetically.
MAIN = ("eval/fd", "eval/kid", "eval/precision", "eval/recall", "eval/ppl", "eval/coverage_kl_mean",
        "eval/active_units", "eval/interp_cv_slerp", "eval/interp_cv_lerp")  # fmt: skip
# The metrics whose differences between settings the report tests against seed noise (analysis/pairwise.py).
HEADLINE = ("eval/fd", "eval/precision", "eval/recall", "eval/detail_hf_ratio", "eval/fragmented_share",
            "eval/jacobian_dims90", "eval/jacobian_pr", "eval/active_units", "eval/class_flips_slerp",
            "eval/class_flips_lerp", "eval/interp_cv_slerp", "eval/interp_cv_lerp")  # fmt: skip
BOOKKEEPING = ("eval/samples", "eval/seconds", "eval/metric_version")  # numbers about the evaluation, not the generator
TRAINING = ("epoch/loss_g", "epoch/loss_d", "epoch/loss", "epoch/recon", "epoch/kl")  # GAN, then VAE  # per-epoch training curves, when logged


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def eval_keys(runs: list[RunRecord]) -> list[str]:
    """Every numeric eval/* key any run logged: new metrics show up without code changes."""
    found = {k for r in runs for m in r.metrics for k, v in m.items() if k.startswith("eval/") and _is_number(v)}
    found -= set(BOOKKEEPING)
    return [k for k in MAIN if k in found] + sorted(found - set(MAIN))


def training_keys(runs: list[RunRecord]) -> list[str]:
    return [k for k in TRAINING if any(_is_number(m.get(k)) for r in runs for m in r.metrics)]


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


def feature_space_names(runs: list[RunRecord]) -> set[str]:
    return {m["eval/feature_space"] for r in runs for m in r.metrics if isinstance(m.get("eval/feature_space"), str)}


def last_epoch(run: RunRecord) -> int:
    return run.metrics[-1]["epoch"] if run.metrics else 0
