"""Load run directories into plain records: config, per-epoch metrics, images, state."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from genlat.rundir import RunDir

# METHOD is slerp, lerp, or e.g. slerp-real (a VAE walking between encodings of two real images)
_PANEL = re.compile(r"^epoch_(\d+)_([a-z-]+)\.png$")
_EPOCH_PNG = re.compile(r"^epoch_(\d+)\.png$")


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
        return [(m["epoch"], m[key]) for m in self.metrics if isinstance(m.get(key), (int, float))]


def is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def load_run(path: str | Path) -> RunRecord:
    """A run as far as it can be read: a damaged file becomes a note in `damage`, never an exception,
    so one broken run folder cannot take the whole report down."""
    run = RunDir(path)  # the layout's one definition; reading it runs nothing of the trainer
    damage: list[str] = []
    config = _json_object(run.config, damage)
    status = _json_object(run.status, damage) if run.status.exists() else {}
    metrics = sorted(_metric_rows(run, damage), key=lambda m: m["epoch"])
    record = RunRecord(run.path, config, metrics, status, damage=damage)
    record.samples = _epoch_pngs(run.samples)
    record.reconstructions = _epoch_pngs(run.reconstructions)
    for png in sorted(run.interpolation.glob("epoch_*.png")):
        if m := _PANEL.match(png.name):
            record.panels[(int(m.group(1)), m.group(2))] = png
    return record


def _json_object(path: Path, damage: list[str]) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        damage.append(f"{path.name} unreadable ({type(e).__name__})")
        return {}
    if not isinstance(value, dict):
        damage.append(f"{path.name} is not a JSON object")
        return {}
    return value


def _metric_rows(run: RunDir, damage: list[str]) -> list[dict]:
    """One dict per epoch; a damaged line or an epoch recorded twice is noted as damage."""
    try:
        rows, bad = run.read_metrics_checked()
    except OSError as e:
        damage.append(f"metrics.jsonl unreadable ({type(e).__name__})")
        return []
    if bad:
        damage.append(f"metrics.jsonl line {bad[0]} is damaged" + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
    epochs = [r["epoch"] for r in rows]
    if twice := sorted({e for e in epochs if epochs.count(e) > 1}):
        damage.append(f"metrics.jsonl has epoch {twice[0]} more than once (two writers?)")
    return rows


def _epoch_pngs(folder: Path) -> dict[int, Path]:
    return {int(m.group(1)): png for png in sorted(folder.glob("epoch_*.png")) if (m := _EPOCH_PNG.match(png.name))}


def find_runs(root: str | Path) -> list[RunRecord]:
    """Every run directory at or below `root`, sorted by name."""
    root = Path(root)
    dirs = [root] if is_run_dir(root) else [p.parent for p in root.rglob("config.json") if is_run_dir(p.parent)]
    return sorted((load_run(d) for d in dirs), key=lambda r: (str(r.name), str(r.path)))
