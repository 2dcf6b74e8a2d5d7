"""Where a run starts: a new run directory, or the one an earlier command left, checked against
this command and read back (config.json, the newest readable checkpoint, the metrics lines).
Reads only; `genlat.run` decides what to write."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from genlat.checkpoint import load_epoch, load_latest
from genlat.config import COSMETIC, TrainConfig
from genlat.errors import ConfigError, OutputError
from genlat.records import Damaged
from genlat.rundir import RunDir


@dataclass
class ResumePoint:
    existing: dict | None  # the run's config.json, None for a new run
    state: dict | None  # the checkpoint to load, None to start from scratch
    epoch: int  # the last epoch that state holds (0: none)
    notes: list[str] = field(default_factory=list)  # what the user should read before training starts


def read_record(run: RunDir) -> dict | None:
    """config.json, or None when there is none; a damaged one is a user error naming what to do."""
    try:
        return run.read_config()
    except Damaged as e:
        raise OutputError(
            f"{run.config} is damaged ({e.why}): move it away and re-run the same command (the "
            "checkpoint holds the run's config), or pick another --name"
        ) from None


def check_compatible(cfg: TrainConfig, run: RunDir, existing: dict) -> None:
    """An existing run directory may only be continued by the same experiment."""
    for key, value in cfg.to_dict().items():
        if key in COSMETIC or key not in existing:
            continue
        if existing[key] != value:
            raise OutputError(
                f"{run.path} holds a run with {key}={existing[key]} (this command: {key}={value}); "
                "pick another --name or --out, or delete that folder"
            )


def check_same_wandb_run(run: RunDir, recorded: str | None) -> None:
    """WANDB_RUN_ID (a sweep agent's, or the user's) must name the W&B run this folder belongs to:
    otherwise the new epochs would go to another W&B run than config.json and the checkpoint name."""
    wanted = os.environ.get("WANDB_RUN_ID")
    if wanted and recorded and wanted != recorded:
        raise OutputError(
            f"{run.path} belongs to W&B run {recorded}, but WANDB_RUN_ID={wanted}: unset WANDB_RUN_ID "
            "to continue that run, or pick another --name or --out for the new one"
        )


def check_same_identity(run: RunDir, records: tuple[dict | None, ...], precision: str, world_size: int) -> None:
    """A resume continues the same computation: the precision the run resolved and the number of
    processes it trained with (which set the steps per epoch and each step's batch) are recorded in
    config.json and in every checkpoint, so a resume that would change them is refused even when
    config.json is gone."""
    for record in filter(None, records):
        had = record.get("mixed_precision_resolved")
        if had is not None and had != precision:
            raise OutputError(
                f"{run.path} was trained with mixed precision {had} (this command: {precision}): resume "
                f"with --mixed_precision {had}, or pick another --name or --out"
            )
        had = record.get("world_size")
        if had is not None and had != world_size:
            raise OutputError(
                f"{run.path} was trained by {had} process(es) (this command: {world_size}): resume with "
                f"`accelerate launch --num_processes {had} ...`, or pick another --name or --out"
            )


def resume_point(cfg: TrainConfig, run: RunDir, shapes: dict | None = None) -> ResumePoint:
    """The run's config (checked against the command, as is the config the checkpoint holds), the
    checkpoint to load and its epoch. A checkpoint that does not load, or does not hold this run's
    networks (`shapes`, genlat.checkpoint.network_shapes), is skipped. An epoch whose metrics line was
    lost is replayed from the checkpoint before it, when one is kept."""
    existing = read_record(run)
    state, skipped = load_latest(run.checkpoints, shapes)
    for record in (existing, (state or {}).get("config")):
        if record:
            check_compatible(cfg, run, record)
    check_same_wandb_run(run, (state or {}).get("wandb_id") or (existing or {}).get("wandb_id"))
    if cfg.resume and state is None and existing is None:
        raise ConfigError(f"--resume: there is no run in {run.path} to resume; drop --resume to start it")
    point = ResumePoint(existing, state, state["epoch"] if state else 0)
    point.notes += [f"[warning] skipped an unreadable checkpoint: {note}" for note in skipped]
    if skipped and state is None:
        point.notes.append(
            f"[warning] no checkpoint in {run.checkpoints} could be read: training starts again from epoch 0"
        )
    try:
        rows, bad = run.read_metrics_checked()
    except Damaged as e:
        raise OutputError(
            f"{run.metrics} is damaged ({e.why}): move it away (its epochs' numbers would be "
            "lost) or restore it, then re-run the same command"
        ) from None
    if bad:
        point.notes.append(f"[warning] {run.metrics}: line {', '.join(map(str, bad))} damaged and dropped")
    lined = {r["epoch"] for r in rows}
    if lined and max(lined) > point.epoch + 1:  # a kill leaves at most one epoch past the checkpoint
        raise OutputError(
            f"{run.path} has metrics for epochs up to {max(lined)} but its newest readable checkpoint is "
            f"{_epoch_name(point.epoch)}: resuming would retrain and replace epochs {point.epoch + 1}-"
            f"{max(lined)}. Restore the missing checkpoints, or move the folder away (or pick another "
            "--name) to start again"
        )
    missing = sorted(set(range(1, point.epoch + 1)) - lined)
    older = (
        load_epoch(run.checkpoints, point.epoch - 1, shapes) if missing == [point.epoch] and point.epoch > 1 else None
    )
    if older is not None:  # only the newest checkpoint's own line is lost: replaying that one epoch loses nothing
        point.notes.append(
            f"[note] epoch {point.epoch} has no metrics line: replaying it from the checkpoint of epoch "
            f"{point.epoch - 1}"
        )
        point.state, point.epoch = older, point.epoch - 1
    elif missing:  # never retrain what a kept checkpoint already holds
        point.notes.append(
            f"[warning] epoch(s) {', '.join(map(str, missing))} have no metrics line: their numbers are "
            f"lost; every other line is kept and training continues after epoch {point.epoch}"
        )
    return point


def _epoch_name(epoch: int) -> str:
    return f"epoch {epoch}" if epoch else "none"
