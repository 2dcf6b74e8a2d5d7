"""`--wandb ENTITY/PROJECT[/SWEEP_ID]`: the runs read through W&B's public API and turned into the
same RunRecords a run directory gives, so the report cannot tell the sources apart. Images (the
`samples` image per epoch, the final `interpolation` table's panels) are downloaded into a cache
folder beside the report. The Api object is a parameter, so tests pass a fake one (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from analysis.runs import RunRecord
from analysis.study import Study, from_records
from genlat.errors import ConfigError, OfflineError
from genlat.grids import SAMPLES
from genlat.wandb_access import has_wandb_login

# W&B run states -> the run directory's words (status.json)
STATES = {"finished": "finished", "running": "running", "crashed": "failed", "failed": "failed", "killed": "preempted"}


def parse_path(path: str) -> tuple[str, str, str | None]:
    parts = [p for p in path.strip().strip("/").split("/") if p]
    if len(parts) not in (2, 3):
        raise ConfigError(f"--wandb {path}: expected ENTITY/PROJECT or ENTITY/PROJECT/SWEEP_ID")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def default_api():
    if not has_wandb_login():
        raise OfflineError("--wandb: reading runs from W&B needs a login: run `wandb login` (or set WANDB_API_KEY)")
    import wandb

    return wandb.Api(timeout=30)


def load_wandb(path: str, cache: Path, api=None) -> Study:
    entity, project, sweep_id = parse_path(path)
    api = api or default_api()
    try:
        if sweep_id:
            sweep = api.sweep(f"{entity}/{project}/{sweep_id}")
            runs, info = list(sweep.runs), {"name": sweep.name or sweep_id, "sweep_id": sweep_id, "method": sweep.config.get("method"),
                                            "metric": sweep.config.get("metric")}  # fmt: skip
        else:
            runs, info = list(api.runs(f"{entity}/{project}")), None
    except (OfflineError, ConfigError):
        raise
    except Exception as e:  # the public API raises its own types for "not found" and network trouble
        raise OfflineError(f"--wandb {path}: cannot read the runs ({type(e).__name__}: {e})") from None
    records = [to_record(run, cache / run.id) for run in runs]
    study = from_records(f"W&B {path}", f"W&B {entity}/{project}" + (f" sweep {sweep_id}" if sweep_id else ""), records, info)
    study.wandb = (entity, project, sweep_id)
    return study


def to_record(run, folder: Path) -> RunRecord:
    config = {k: v for k, v in dict(run.config).items() if not k.startswith("_")}
    config.setdefault("run_name", run.name)
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
    state = STATES.get(run.state, run.state)
    status = {"state": state, "epoch": metrics[-1]["epoch"] if metrics else 0}
    record = RunRecord(folder, config, metrics, status)
    for epoch, media in images.items():
        if media.get("path"):
            record.samples[epoch] = _download(run, media["path"], folder)
    record.panels = _panels(run, folder)
    return record


def _download(run, name: str, folder: Path) -> Path:
    run.file(name).download(root=str(folder), replace=True, exist_ok=True)
    return folder / name


def _panels(run, folder: Path) -> dict[tuple[int, str], Path]:
    """The final `interpolation` table (one row per endpoint pair) stacked back into one panel per method."""
    table = dict(run.summary).get("interpolation")
    if not isinstance(table, dict) or not table.get("path"):
        return {}
    data = json.loads(_download(run, table["path"], folder).read_text())
    cols = data["columns"]
    rows: dict[tuple[int, str], list[tuple[int, Path]]] = {}
    for values in data["data"]:
        r = dict(zip(cols, values))
        if isinstance(r.get("panel"), dict) and r["panel"].get("path"):
            rows.setdefault((int(r["epoch"]), r["method"]), []).append((int(r["pair"]), _download(run, r["panel"]["path"], folder)))
    panels = {}
    for (epoch, method), pairs in rows.items():
        arrays = [np.asarray(Image.open(p).convert("RGB")) for _, p in sorted(pairs)]
        out = folder / "interpolation" / f"epoch_{epoch:03d}_{method}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(arrays, axis=0)).save(out)
        panels[(epoch, method)] = out
    return panels
