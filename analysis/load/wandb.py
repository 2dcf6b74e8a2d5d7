"""`--wandb ENTITY/PROJECT[/SWEEP_ID] [--group NAME]`: the runs read through W&B's public API and
turned into the same RunRecords a run directory gives, so the report cannot tell the sources apart.
Images (the `samples` image per epoch, the final `interpolation` table's panels) are downloaded into
a cache folder beside the report. The Api object is a parameter, so tests pass a fake one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from analysis.load.runs import RunRecord
from analysis.load.stamps import has_eval_numbers
from analysis.load.study import Study, from_records
from genlat.errors import ConfigError, OfflineError
from genlat.grids import SAMPLES, stack_rows
from genlat.metrics.registry import STAMP_KEYS
from genlat.wandb_access import has_wandb_login, server_problem

# W&B run states -> the run directory's words (status.json)
STATES = {"finished": "finished", "running": "running", "crashed": "failed", "failed": "failed", "killed": "preempted"}
PANEL_TABLE = "interpolation"  # genlat/tracking.py's final table of interpolation panels


@dataclass(frozen=True)
class Selection:
    """Which runs of a project: a W&B sweep's, a group's (an offline sweep synced by `genlat sweep
    --sync` carries its group), or all of them."""

    entity: str
    project: str
    sweep: str | None = None
    group: str | None = None

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}" + (f" sweep {self.sweep}" if self.sweep else "") \
            + (f" group {self.group}" if self.group else "")  # fmt: skip


def parse_path(path: str, group: str | None = None) -> Selection:
    parts = [p for p in path.strip().strip("/").split("/") if p]
    if len(parts) not in (2, 3):
        raise ConfigError(f"--wandb {path}: expected ENTITY/PROJECT or ENTITY/PROJECT/SWEEP_ID")
    if group is not None and not group.strip():
        raise ConfigError("--group: must not be empty; give the W&B group of the runs")
    if group and len(parts) == 3:
        raise ConfigError(f"--wandb {path} --group {group}: give a SWEEP_ID or a --group, not both")
    return Selection(parts[0], parts[1], parts[2] if len(parts) == 3 else None, group or None)


def default_api():
    if not has_wandb_login():
        raise OfflineError("--wandb: reading runs from W&B needs a login: run `wandb login` (or set WANDB_API_KEY)")
    if problem := server_problem():  # seconds, not W&B's own minute of retries on no network
        raise OfflineError(f"--wandb: the W&B server cannot be reached ({problem}); try again when online")
    import wandb

    try:
        return wandb.Api(timeout=30)  # verifies the key: a wrong one is refused here
    except Exception as e:  # wandb.errors.AuthenticationError, CommError, UsageError, ...
        why = " ".join(str(e).split())[:200] or type(e).__name__
        raise OfflineError(f"--wandb: W&B refused the login ({type(e).__name__}: {why}); check `wandb login`") from None


def load_wandb(path: str, cache: Path, api=None, group: str | None = None) -> Study:
    where = parse_path(path, group)
    api = api or default_api()
    try:
        info = None
        if where.sweep:
            sweep = api.sweep(f"{where.entity}/{where.project}/{where.sweep}")
            runs, info = list(sweep.runs), {"name": sweep.name or where.sweep, "sweep_id": where.sweep,
                                            "method": sweep.config.get("method"), "metric": sweep.config.get("metric")}  # fmt: skip
        else:
            runs = list(
                api.runs(f"{where.entity}/{where.project}", filters={"group": where.group} if where.group else None)
            )
        records = [to_record(run, cache / run.id, api) for run in runs]
    except (OfflineError, ConfigError):
        raise
    except Exception as e:  # the public API raises its own types for "not found" and network trouble
        raise OfflineError(f"--wandb {path}: cannot read the runs ({type(e).__name__}: {e})") from None
    if not records:  # a misspelt group matches nothing: say so rather than write an empty report
        raise ConfigError(f"--wandb {where}: no runs there; check the names (W&B's are case-sensitive)")
    study = from_records(
        f"W&B {path}" + (f" group {where.group}" if where.group else ""), f"W&B {where}", records, info
    )
    study.wandb = where
    return study


def to_record(run, folder: Path, api) -> RunRecord:
    config = {k: v for k, v in dict(run.config).items() if not k.startswith("_")}
    config.setdefault("run_name", run.name)
    config.setdefault("wandb_id", run.id)
    by_epoch: dict[int, dict] = {}
    images: dict[int, dict] = {}
    for row in run.scan_history():
        epoch = row.get("epoch")
        if not isinstance(epoch, (int, float)):
            continue  # train/* rows are on their own x-axis
        if isinstance(row.get(SAMPLES.wandb_key), dict):
            images[int(epoch)] = row[SAMPLES.wandb_key]
        values = {k: v for k, v in row.items() if k.startswith(("epoch/", "eval/"))}
        if values:
            by_epoch.setdefault(int(epoch), {"epoch": int(epoch)}).update(values)
    metrics = [by_epoch[e] for e in sorted(by_epoch)]
    summary = run.summary_metrics  # plain JSON (run.summary wraps nested values in objects that are no dicts)
    _stamp(metrics, summary, config)
    state = STATES.get(run.state, run.state)
    status = {"state": state, "epoch": metrics[-1]["epoch"] if metrics else 0}
    record = RunRecord(folder, config, metrics, status)
    for epoch, media in images.items():
        if media.get("path"):
            record.samples[epoch] = _download(run, media["path"], folder)
    record.panels = _panels(run, summary.get(PANEL_TABLE), folder, api)
    return record


def _stamp(metrics: list[dict], summary: dict, config: dict) -> None:
    """History holds only numbers: the feature space's name (a string) is in the run's summary and
    config. A line with eval numbers takes what its history row lacks from there (summary first)."""
    for line in metrics:
        if has_eval_numbers(line):
            for k in STAMP_KEYS:
                if k not in line and (v := summary.get(k, config.get(k))) is not None:
                    line[k] = v


def _download(run, name: str, folder: Path) -> Path:
    run.file(name).download(root=str(folder), replace=True, exist_ok=True)
    return folder / name


def _panels(run, table, folder: Path, api) -> dict[tuple[int, str], Path]:
    """The final `interpolation` table (one row per endpoint pair) stacked back into one panel per method.
    The table file in the run's files holds the string "Image" in each picture's cell: the cells and the
    pictures are in the table's artifact, `run-<id>-interpolation`, as `interpolation.table.json`."""
    if not isinstance(table, dict) or table.get("_type") != "table-file":
        return {}
    artifact = api.artifact(f"{run.entity}/{run.project}/run-{run.id}-{PANEL_TABLE}:latest")
    root = Path(artifact.download(root=str(folder / "artifacts" / PANEL_TABLE)))
    data = json.loads((root / f"{PANEL_TABLE}.table.json").read_text())
    cols = data["columns"]
    rows: dict[tuple[int, str], list[tuple[int, Path]]] = {}
    for values in data["data"]:
        r = dict(zip(cols, values))
        if isinstance(r.get("panel"), dict) and r["panel"].get("path"):
            rows.setdefault((int(r["epoch"]), r["method"]), []).append((int(r["pair"]), root / r["panel"]["path"]))
    panels = {}
    for (epoch, method), pairs in rows.items():
        arrays = [np.asarray(Image.open(p).convert("RGB")) for _, p in sorted(pairs)]
        out = folder / "interpolation" / f"epoch_{epoch:03d}_{method}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(stack_rows(arrays)).save(out)  # as the run's own panel: one border between rows
        panels[(epoch, method)] = out
    return panels
