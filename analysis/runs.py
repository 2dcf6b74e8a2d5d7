"""Load run directories into plain records: config, per-epoch metrics, images, state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from genlat.rundir import RunDir

_PANEL = re.compile(r"^epoch_(\d+)_([a-z]+)\.png$")


@dataclass
class RunRecord:
    path: Path
    config: dict
    metrics: list[dict]  # one dict per epoch, in epoch order
    status: dict
    samples: dict[int, Path] = field(default_factory=dict)  # epoch -> sample grid PNG
    panels: dict[tuple[int, str], Path] = field(default_factory=dict)  # (epoch, method) -> panel PNG

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
    for png in sorted(run.samples.glob("epoch_*.png")):
        record.samples[int(png.stem.split("_")[1])] = png
    for png in sorted(run.interpolation.glob("epoch_*.png")):
        if m := _PANEL.match(png.name):
            record.panels[(int(m.group(1)), m.group(2))] = png
    return record


def find_runs(root: str | Path) -> list[RunRecord]:
    """Every run directory at or below `root`, sorted by name."""
    root = Path(root)
    dirs = [root] if is_run_dir(root) else [p.parent for p in root.rglob("config.json") if is_run_dir(p.parent)]
    return sorted((load_run(d) for d in dirs), key=lambda r: r.name)
