"""A study: the runs to compare, grouped into settings (zn and whatever else varies, seeds pooled),
and the trials that produced nothing to compare, with their reason. Read from a sweep DIR
(sweep.json + runs/), from loose run directories, or built from records another source made."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from analysis.load.runs import RunRecord, find_runs, is_run_dir, load_run
from genlat.errors import ConfigError
from genlat.sweep.state import SweepState

# Hyperparameters that make two runs different settings; the seed is what repeats a setting.
SETTING_KEYS = ("zn", "model", "beta", "lr", "beta1", "batch_size", "epochs", "epoch_size", "ngf", "ndf",
                "dataset", "image_size", "mixed_precision")  # fmt: skip


@dataclass
class Problem:
    """A trial or run the report must name: it failed, diverged, or did not finish."""

    name: str
    state: str
    reason: str


@dataclass
class Setting:
    """Runs that differ only by seed."""

    label: str  # e.g. "zn=50" or "zn=50 lr=0.0002" when lr varies too
    zn: int
    runs: list[RunRecord]

    @property
    def seeds(self) -> list:
        return [r.config.get("seed") for r in self.runs]


@dataclass
class Study:
    title: str
    source: str  # the folder, run list or W&B path it was read from
    runs: list[RunRecord]
    problems: list[Problem] = field(default_factory=list)
    sweep: dict | None = None  # name, sweep_id, method, metric of a sweep DIR
    wandb: object | None = None  # analysis.load.wandb.Selection, when read from W&B
    settings: list[Setting] = field(default_factory=list)

    def __post_init__(self):
        self.settings = group_settings(self.runs)


def setting_value(run: RunRecord, key: str):
    """The run's value of a setting key; for the precision, what `auto` became on its machine (two
    machines running `auto` may train in bf16 and fp32: different settings)."""
    if key == "mixed_precision":
        return run.config.get("mixed_precision_resolved") or run.config.get(key)
    return run.config.get(key)


def setting_keys(runs: list[RunRecord]) -> list[str]:
    """What tells the runs' settings apart: zn, then every other setting key whose value varies."""
    varying = [k for k in SETTING_KEYS if len({json.dumps(setting_value(r, k)) for r in runs}) > 1]
    return ["zn", *(k for k in varying if k != "zn")]


def group_settings(runs: list[RunRecord]) -> list[Setting]:
    keys = setting_keys(runs)
    groups: dict[tuple, list[RunRecord]] = {}
    for r in runs:
        groups.setdefault(tuple(json.dumps(setting_value(r, k)) for k in keys), []).append(r)
    settings = []
    for values, members in groups.items():
        label = " ".join(f"{k}={json.loads(v)}" for k, v in zip(keys, values))
        members.sort(key=lambda r: (str(r.config.get("seed")), r.name))
        settings.append(Setting(label, members[0].config.get("zn"), members))
    return sorted(settings, key=lambda s: (_num(s.zn), s.label))


def _num(x) -> float:
    return x if isinstance(x, (int, float)) else math.inf


def run_problem(run: RunRecord) -> Problem | None:
    state = run.state
    if run.damage:
        return Problem(run.name, state, "damaged run folder, left out: " + "; ".join(run.damage))
    if state == "finished" and run.metrics:
        return None
    if not run.metrics:
        return Problem(run.name, state, "no finished epoch in metrics.jsonl")
    reason = run.status.get("reason") or ", ".join(
        f"{k}={v}" for k, v in run.status.items() if k not in ("state", "epoch")
    )
    return Problem(
        run.name,
        state,
        f"stopped after epoch {run.status.get('epoch', run.metrics[-1]['epoch'])}" + (f": {reason}" if reason else ""),
    )


def load_sweep(root: str | Path) -> Study:
    """A sweep DIR: sweep.json names every trial (also those that never wrote a run directory)."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"SWEEP_DIR {root}: no such folder; give a genlat sweep DIR or --runs RUN_DIR ...")
    if not (root / "sweep.json").is_file():
        runs = find_runs(root)
        if not runs:
            raise ConfigError(f"SWEEP_DIR {root}: neither a sweep (sweep.json) nor a folder of run directories")
        return from_records(root.name, str(root), runs)
    data = SweepState(root).read()  # the sweep's own reader: a damaged sweep.json is one line
    runs, problems = [], []
    for t in data["trials"]:
        run_dir = root / "runs" / t["name"]
        run = load_run(run_dir) if is_run_dir(run_dir) else None
        if run is not None and run.metrics and not run.damage:
            runs.append(run)
        if t["state"] in ("finished", "stopped") and run is not None and run.metrics and not run.damage:
            continue
        reason = t.get("error") or (f"exit code {t['exit_code']}" if t.get("exit_code") not in (None, 0) else "")
        if run is not None and (p := run_problem(run)) and p.reason:
            reason = f"{reason}; {p.reason}" if reason else p.reason
        problems.append(Problem(t["name"], t["state"], reason or "no run directory"))
    metric = data.get("metric")
    sweep = {"name": data.get("name"), "sweep_id": data.get("sweep_id"), "method": data.get("method"), "metric": metric}
    return Study(f"sweep {data.get('name')}", str(root), runs, problems, sweep)


def load_loose(paths: list[str | Path]) -> Study:
    runs, seen = [], set()
    for p in map(Path, paths):
        if not is_run_dir(p):
            raise ConfigError(f"--runs {p}: not a run directory (no config.json); give OUT/NAME folders")
        if p.resolve() not in seen:  # `--runs A A` (or A and ./A) is one run, not two seeds
            seen.add(p.resolve())
            runs.append(load_run(p))
    return from_records("loose runs", ", ".join(map(str, paths)), runs)


def from_records(title: str, source: str, records: list[RunRecord], sweep: dict | None = None) -> Study:
    runs = [r for r in records if r.metrics and not r.damage]
    problems = [p for r in records if (p := run_problem(r))]
    return Study(title, source, runs, problems, sweep)
