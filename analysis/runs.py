"""Load run directories into plain records: config, per-epoch metrics, images, state."""

from __future__ import annotations

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

    @property
    def name(self) -> str:
        return self.config.get("run_name", self.path.name)

    @property
    def state(self) -> str:
        return self.status.get("state", "unknown")

    def series(self, key: str) -> list[tuple[int, float]]:
        """(epoch, value) for every epoch that recorded `key`."""
        return [(m["epoch"], m[key]) for m in self.metrics if isinstance(m.get(key), (int, float))]


def is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def load_run(path: str | Path) -> RunRecord:
    run = RunDir(path)  # the layout's one definition; reading it runs nothing of the trainer
    config = run.read_config()
    metrics = sorted(run.read_metrics(), key=lambda m: m["epoch"])  # a line cut by a kill is dropped
    record = RunRecord(run.path, config, metrics, run.read_status() or {})
    record.samples = _epoch_pngs(run.samples)
    record.reconstructions = _epoch_pngs(run.path / "reconstructions")
    for png in sorted(run.interpolation.glob("epoch_*.png")):
        if m := _PANEL.match(png.name):
            record.panels[(int(m.group(1)), m.group(2))] = png
    return record


def _epoch_pngs(folder: Path) -> dict[int, Path]:
    return {int(m.group(1)): png for png in sorted(folder.glob("epoch_*.png")) if (m := _EPOCH_PNG.match(png.name))}


def find_runs(root: str | Path) -> list[RunRecord]:
    """Every run directory at or below `root`, sorted by name."""
    root = Path(root)
    dirs = [root] if is_run_dir(root) else [p.parent for p in root.rglob("config.json") if is_run_dir(p.parent)]
    return sorted((load_run(d) for d in dirs), key=lambda r: r.name)
