"""Checkpoints: one dict per epoch holding everything needed to resume exactly.

Written atomically (temp file, fsync, rename), so a kill during a write leaves the previous
checkpoint intact; loaded with `weights_only=True`, so a checkpoint cannot run code when read.
The newest `keep` epochs are kept (resume uses the newest), and `best.pt` beside them holds the best
epoch's (genlat.keys.Best); pruning only ever removes epoch_NNN.pt files.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Any

import torch

from genlat.atomic import atomic_write_bytes
from genlat.records import config_problem
from genlat.rundir import checkpoint_epoch

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
    """Checkpoint files, oldest first: regular files only (a folder, FIFO or link of that name is not
    a checkpoint: reading a FIFO would hang, and rotation never deletes what it did not write)."""
    if not folder.is_dir():
        return []
    found = [(e, p) for p in folder.iterdir() if (e := checkpoint_epoch(p.name)) is not None and _regular(p)]
    return [p for _, p in sorted(found)]


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def checkpoint_problem(
    state: Any, shapes: dict[str, dict[str, tuple]] | None = None, epoch: int | None = None
) -> str | None:
    """What makes a loaded checkpoint unusable, or None: the one validation of the format. It is a dict
    with an integer epoch >= 1 (`epoch`'s, when its file name says one), its config an object of the
    right types, and, given `shapes` ({network key: {parameter: shape}}), each network's weights."""
    if not isinstance(state, dict):
        return f"a {type(state).__name__}, not a checkpoint"
    got = state.get("epoch")
    if type(got) is not int or got < 1:
        return "no epoch number" if got is None else f"its epoch is {got!r}, not an epoch number"
    if epoch is not None and got != epoch:
        return f"it holds epoch {got}"
    if state.get("config") is not None and (problem := config_problem(state["config"])):
        return f"its config: {problem}"
    if not isinstance(state.get("wandb_id"), (str, type(None))):
        return "its wandb_id is not a string"
    identity = state.get("identity", {})  # older checkpoints have none
    if not (isinstance(identity, dict) and type(identity.get("world_size", 1)) is int
            and isinstance(identity.get("mixed_precision_resolved", ""), str)):  # fmt: skip
        return "its identity (precision, process count) is not what genlat writes"
    for key, want in (shapes or {}).items():
        weights = state.get(key)
        if not isinstance(weights, dict):
            return f"no {key} weights"
        have = {name: tuple(t.shape) for name, t in weights.items() if isinstance(t, torch.Tensor)}
        if have != want:
            return f"its {key} weights do not fit this run's network"
    return None


def network_shapes(nets: dict[str, torch.nn.Module]) -> dict[str, dict[str, tuple]]:
    """{network key: {parameter: shape}}, what `checkpoint_problem` compares a checkpoint with."""
    return {key: {name: tuple(t.shape) for name, t in net.state_dict().items()} for key, net in nets.items()}


def _load(path: Path, shapes: dict | None) -> dict[str, Any]:
    """A checkpoint file, loaded safely and validated; raises with a short reason otherwise."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if problem := checkpoint_problem(state, shapes, checkpoint_epoch(path.name)):
        raise ValueError(problem)
    return state


def _reason(e: Exception) -> str:
    return str(e) if type(e) is ValueError and str(e) else type(e).__name__


def load_latest(folder: Path, shapes: dict | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    """The newest checkpoint that loads and is valid, and a note for each newer one that is not."""
    skipped = []
    for path in reversed(list_checkpoints(folder)):
        try:
            return _load(path, shapes), skipped
        except Exception as e:  # truncated, corrupt or not a checkpoint: fall back to the one before
            skipped.append(f"{path.name}: {_reason(e)}")
    return None, skipped


def load_epoch(folder: Path, epoch: int, shapes: dict | None = None) -> dict[str, Any] | None:
    """The checkpoint of one epoch, when it is kept, loads and is valid; else None."""
    path = checkpoint_path(folder, epoch)
    try:
        return _load(path, shapes) if _regular(path) else None
    except Exception:  # truncated, corrupt or not a checkpoint, as in load_latest
        return None
