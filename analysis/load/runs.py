"""Load run directories into plain records: config, per-epoch metrics, images, state. Every file is
read through genlat.records, the one validation of each format genlat writes (config.json,
status.json, metrics lines, the PNGs the report embeds): a damaged one is a note in the record's
`damage`, and such a run is named as a problem and left out, never a traceback."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from genlat import records
from genlat.rundir import RunDir, grid_epoch, panel_of

# METHOD is slerp, lerp, or e.g. slerp-real (a VAE walking between encodings of two real images)


@dataclass
class RunRecord:
    path: Path
    config: dict
    metrics: list[dict]  # one dict per epoch, in epoch order
    status: dict
    samples: dict[int, Path] = field(default_factory=dict)  # epoch -> sample grid PNG
    panels: dict[tuple[int, str], Path] = field(default_factory=dict)  # (epoch, method) -> panel PNG
    reconstructions: dict[int, Path] = field(default_factory=dict)  # epoch -> reconstruction grid (VAE)
    damage: list[str] = field(default_factory=list)  # what could not be read: such a run is named, not compared

    @property
    def name(self) -> str:
        return str(self.config.get("run_name", self.path.name))

    @property
    def state(self) -> str:
        return self.status.get("state", "unknown")

    def series(self, key: str) -> list[tuple[int, float]]:
        """(epoch, value) for every epoch that recorded `key`."""
        return [(m["epoch"], m[key]) for m in self.metrics if type(m.get(key)) in (int, float)]  # not a bool


def is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def load_run(path: str | Path) -> RunRecord:
    """A run as far as it can be read: a damaged file becomes a note in `damage`, never an exception,
    so one broken run folder cannot take the whole report down."""
    run = RunDir(path)  # the layout's one definition; reading it runs nothing of the trainer
    damage: list[str] = []
    config = _read(records.read_config, run.config, damage, required=True)
    status = _read(records.read_status, run.status, damage)
    metrics = sorted(_metric_rows(run, damage), key=lambda m: m["epoch"])
    record = RunRecord(run.path, config, metrics, status, damage=damage)
    record.samples = _epoch_pngs(run.samples, damage)
    record.reconstructions = _epoch_pngs(run.reconstructions, damage)
    for png in sorted(run.interpolation.glob("epoch_*.png")):
        if (key := panel_of(png.name)) and _intact(png, damage):
            record.panels[key] = png
    return record


def _read(reader, path: Path, damage: list[str], required: bool = False) -> dict:
    try:
        value = reader(path)
    except records.Damaged as e:
        damage.append(f"{path.name}: {e.why}")
        return {}
    if value is None and required:
        damage.append(f"{path.name} is missing")
    return value or {}


def _metric_rows(run: RunDir, damage: list[str]) -> list[dict]:
    """One dict per epoch; a damaged line or an epoch recorded twice is noted as damage. A NaN or
    infinite value is left out of its row (not measured), so no statistic is computed on it."""
    try:
        rows, bad = run.read_metrics_checked()
    except records.Damaged as e:
        damage.append(f"metrics.jsonl: {e.why}")
        return []
    if bad:
        damage.append(
            f"metrics.jsonl line {bad[0]} is damaged" + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
        )
    epochs = [r["epoch"] for r in rows]
    if twice := sorted({e for e in epochs if epochs.count(e) > 1}):
        damage.append(f"metrics.jsonl has epoch {twice[0]} more than once (two writers?)")
    return [{k: v for k, v in r.items() if not (isinstance(v, float) and not math.isfinite(v))} for r in rows]


def _intact(png: Path, damage: list[str]) -> bool:
    """A PNG the report may embed (records.png_problem: a regular file that decodes, of a size genlat draws)."""
    if problem := records.png_problem(png):
        damage.append(f"{png.parent.name}/{png.name}: {problem}")
        return False
    return True


def _epoch_pngs(folder: Path, damage: list[str]) -> dict[int, Path]:
    pngs = sorted(folder.glob("epoch_*.png"))
    return {epoch: png for png in pngs if (epoch := grid_epoch(png.name)) is not None and _intact(png, damage)}


def find_runs(root: str | Path) -> list[RunRecord]:
    """Every run directory at or below `root`, sorted by name."""
    root = Path(root)
    dirs = [root] if is_run_dir(root) else [p.parent for p in root.rglob("config.json") if is_run_dir(p.parent)]
    return sorted((load_run(d) for d in dirs), key=lambda r: (str(r.name), str(r.path)))
