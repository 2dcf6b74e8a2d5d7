"""The run directory: the one place a run writes, and everything a report needs.

OUT/NAME/
  config.json          the config as run, library versions, parameter counts, W&B run id
  metrics.jsonl        exactly one JSON line per finished epoch
  samples/epoch_NNN.png            the latent bank's grid after each epoch
  reconstructions/epoch_NNN.png    VAE: rows of fixed real images, each followed by its reconstruction
  interpolation/epoch_NNN_METHOD.png  interpolation panels (one row per endpoint pair),
                       and each row alone: epoch_NNN_METHOD_pairK.png; VAE: METHOD-real
                       walks between the encodings of two fixed real images
  interpolation/epoch_NNN_METHOD.gif  the final epoch's panel as an animation (genlat.morph), written
                       at the end of a run and logged to W&B as a video
  checkpoints/epoch_NNN.pt         the newest few checkpoints
  wandb/               the W&B run (offline runs: wandb/offline-run-*)
  wandb-data/          W&B's media staging ($WANDB_DATA_DIR), kept inside so `wandb sync` finds it
  status.json          running | finished | diverged | preempted | failed, with the last epoch
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from genlat import faults, records
from genlat.atomic import TEMP_SUFFIX, atomic_write_bytes, atomic_write_json
from genlat.errors import OutputError
from genlat.grids import ALL_GRIDS, RECONSTRUCTIONS, SAMPLES, Grid

# checkpoints, grids, panels, morph GIFs
_OWN_FILE = re.compile(r"^(epoch_\d+(_[a-z-]+(_pair\d+)?)?\.(png|pt|gif)|best\.pt)$")


# The names of what a run folder holds are parsed here only; the writers use RunDir's methods below.
_CHECKPOINT_NAME = re.compile(r"^epoch_(\d+)\.pt$")  # checkpoints/epoch_NNN.pt
_GRID_NAME = re.compile(r"^epoch_(\d+)\.png$")  # samples/epoch_NNN.png, reconstructions/epoch_NNN.png
_PANEL_NAME = re.compile(r"^epoch_(\d+)_([a-z-]+)\.png$")  # interpolation/epoch_NNN_METHOD.png


def checkpoint_epoch(name: str) -> int | None:
    """The epoch a checkpoint's file name says, or None when it is not a checkpoint's name."""
    return int(m.group(1)) if (m := _CHECKPOINT_NAME.match(name)) else None


def grid_epoch(name: str) -> int | None:
    """The epoch of a grid PNG's name (samples/, reconstructions/), or None."""
    return int(m.group(1)) if (m := _GRID_NAME.match(name)) else None


def panel_of(name: str) -> tuple[int, str] | None:
    """(epoch, method) of a whole interpolation panel's name, or None (a row's or a GIF's name)."""
    return (int(m.group(1)), m.group(2)) if (m := _PANEL_NAME.match(name)) else None


class RunDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.config = self.path / "config.json"
        self.metrics = self.path / "metrics.jsonl"
        self.status = self.path / "status.json"
        self.samples = self.path / SAMPLES.folder
        self.reconstructions = self.path / RECONSTRUCTIONS.folder
        self.interpolation = self.path / "interpolation"
        self.checkpoints = self.path / "checkpoints"
        self.wandb = self.path / "wandb"
        self.wandb_data = self.path / "wandb-data"

    def planted_links(self) -> list[Path]:
        """The paths genlat writes inside the folder that are symbolic links: writing, rotating or
        deleting through them would touch files outside the run (another run's checkpoints, a user's file)."""
        return [p for p, why in self.foreign_paths() if why == "a symbolic link"]

    def foreign_paths(self) -> list[tuple[Path, str]]:
        """genlat's own paths in the folder that are not what genlat would write there: a link, a
        folder or FIFO where a file belongs (config.json, a checkpoint, a grid PNG), a file where a
        folder belongs. Writing there would fail mid-run (after the epoch to replay was dropped) or
        reach outside the run, so such a folder is refused before anything is written."""
        files = (self.config, self.metrics, self.status, self.path / ".lock")
        folders = (
            self.samples,
            self.reconstructions,
            self.interpolation,
            self.checkpoints,
            self.wandb,
            self.wandb_data,
        )
        found = []
        for p in (*files, *folders):
            if p.is_symlink():
                found.append((p, "a symbolic link"))
            elif p.exists() and not (p.is_dir() if p in folders else p.is_file()):
                found.append((p, "not a folder" if p in folders else "not a regular file"))
        for d in (self.checkpoints, self.samples, self.reconstructions, self.interpolation):
            if d.is_dir() and not d.is_symlink():
                for p in sorted(d.iterdir()):
                    if _OWN_FILE.match(p.name) and (p.is_symlink() or not p.is_file()):
                        found.append((p, "a symbolic link" if p.is_symlink() else "not a regular file"))
        return found

    def check_no_links(self) -> None:
        """Refuse a folder whose own paths are links or of the wrong kind (genlat.rundir.foreign_paths)."""
        if found := self.foreign_paths():
            path, why = found[0]
            if why == "a symbolic link":
                raise OutputError(
                    f"{path} is a symbolic link: genlat writes only inside the run folder it was given; "
                    "replace the link with a real folder or file (or remove it), then re-run"
                )
            raise OutputError(f"{path} is {why}, not what genlat wrote there: move it away (or restore it), then "
                              "re-run the same command")  # fmt: skip

    def create(self) -> None:
        for d in (self.samples, self.interpolation, self.checkpoints, self.wandb, self.wandb_data):
            d.mkdir(parents=True, exist_ok=True)

    def grid_png(self, grid: Grid, epoch: int) -> Path:
        return self.path / grid.folder / f"epoch_{epoch:03d}.png"

    def panel_png(self, epoch: int, method: str) -> Path:
        return self.interpolation / f"epoch_{epoch:03d}_{method}.png"

    def panel_row_png(self, epoch: int, method: str, pair: int) -> Path:
        return self.interpolation / f"epoch_{epoch:03d}_{method}_pair{pair}.png"

    def panel_row_pngs(self, epoch: int, method: str) -> list[Path]:
        """The epoch's rows of one method's panel, pair 0, 1, ... up to the first one missing."""
        rows: list[Path] = []
        while (path := self.panel_row_png(epoch, method, len(rows))).exists():
            rows.append(path)
        return rows

    def morph_gif(self, epoch: int, method: str) -> Path:
        return self.interpolation / f"epoch_{epoch:03d}_{method}.gif"

    # --- reading back: through genlat.records, one validation per format (records.Damaged) ---
    def read_config(self) -> dict[str, Any] | None:
        return records.read_config(self.config)

    def write_config(self, record: dict[str, Any]) -> None:
        atomic_write_json(self.config, record)

    def write_status(self, state: str, epoch: int, **extra: Any) -> None:
        atomic_write_json(self.status, {"state": state, "epoch": epoch, **extra})

    def read_status(self) -> dict[str, Any] | None:
        return records.read_status(self.status)

    # --- metrics.jsonl: one line per epoch, append-only, trimmed back on resume ---
    def read_metrics(self) -> list[dict[str, Any]]:
        return self.read_metrics_checked()[0]

    def read_metrics_checked(self) -> tuple[list[dict[str, Any]], list[int]]:
        """Every intact line and the numbers of the damaged ones (genlat.records.read_metrics)."""
        return records.read_metrics(self.metrics)

    def append_metrics(self, row: dict[str, Any]) -> None:
        line = json.dumps(row, sort_keys=True) + "\n"
        with open(self.metrics, "a") as f:
            f.write(line[: len(line) // 2])
            if os.environ.get(faults.ENV):
                f.flush()
                faults.hit("metrics-append")
            f.write(line[len(line) // 2 :])
            f.flush()
            os.fsync(f.fileno())

    def remove_temp_files(self) -> list[Path]:
        """Temp files of writes cut short by a kill (their targets are intact): safe to delete
        because a run directory has one writer, and that is us."""
        folders = (self.path, self.checkpoints, self.interpolation, *(self.path / g.folder for g in ALL_GRIDS))
        stale = [p for d in folders if d.is_dir()
                 for p in d.glob(f".*{TEMP_SUFFIX}") if p.is_file()]  # fmt: skip
        for p in stale:
            p.unlink(missing_ok=True)
        return stale

    def keep_metrics_through(self, epoch: int) -> None:
        """Drop lines of epochs after `epoch` (written before a kill, but not checkpointed)."""
        self._rewrite_metrics(r for r in self.read_metrics() if r["epoch"] <= epoch)

    def _rewrite_metrics(self, rows: Iterable[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
        atomic_write_bytes(self.metrics, data.encode())
