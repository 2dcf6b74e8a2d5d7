"""Checkpoints: one dict per epoch holding everything needed to resume exactly.

Written atomically (temp file, fsync, rename), so a kill during a write leaves the previous
checkpoint intact; loaded with `weights_only=True`, so a checkpoint cannot run code when read.
The newest `keep` epochs are kept (resume uses the newest), and `best.pt` beside them holds the best
epoch's (genlat.keys.Best); pruning only ever removes epoch_NNN.pt files.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import torch

from genlat.atomic import atomic_write_bytes

_NAME = re.compile(r"^epoch_(\d+)\.pt$")
BEST = "best.pt"


def checkpoint_path(folder: Path, epoch: int) -> Path:
    return folder / f"epoch_{epoch:03d}.pt"


def save_checkpoint(folder: Path, epoch: int, state: dict[str, Any], keep: int, best: bool = False) -> Path:
    """The epoch's checkpoint; also best.pt when this epoch is the run's best so far. best.pt is written
    first: a kill between the two replays the epoch, which writes it again."""
    buf = io.BytesIO()
    torch.save(state, buf)
    if best:
        atomic_write_bytes(folder / BEST, buf.getvalue())
    path = checkpoint_path(folder, epoch)
    atomic_write_bytes(path, buf.getvalue(), fault="checkpoint")
    for old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoint files, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def load_latest(folder: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The newest checkpoint that loads, and a note for each newer one that did not."""
    skipped = []
    for path in reversed(list_checkpoints(folder)):
        try:
            return torch.load(path, map_location="cpu", weights_only=True), skipped
        except Exception as e:  # truncated or corrupt: fall back to the one before
            skipped.append(f"{path.name}: {type(e).__name__}")
    return None, skipped


def load_epoch(folder: Path, epoch: int) -> dict[str, Any] | None:
    """The checkpoint of one epoch, when it is kept and loads; else None."""
    path = checkpoint_path(folder, epoch)
    try:
        return torch.load(path, map_location="cpu", weights_only=True) if path.is_file() else None
    except Exception:  # truncated or corrupt, as in load_latest
        return None
