"""One run, end to end: check the inputs, open (or resume) the run directory, train epoch by epoch,
write the epoch series and panels, log to W&B, checkpoint. Returns an exit code (genlat.errors).

Order of writes at the end of an epoch: PNGs, the metrics line, W&B, then the checkpoint. A kill
before the checkpoint lands replays that epoch on resume (exactly: its data order and z come from
the seed and epoch), and the replayed epoch's metrics line replaces the orphan one.
"""

from __future__ import annotations

import errno
import json
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from accelerate import Accelerator

from genlat import faults
from genlat.checkpoint import load_epoch, load_latest, save_checkpoint
from genlat.config import COSMETIC, TrainConfig
from genlat.data import build_source
from genlat.errors import EXIT_DIVERGED, EXIT_OK, EXIT_PREEMPTED, ConfigError, OutputError
from genlat.health import CollapseWatch, nonfinite, spread
from genlat.ids import new_run_id
from genlat.images import grid_array, panel_array, save_png
from genlat.metrics.evaluate import Evaluator, check_feature_net
from genlat.precision import resolve as resolve_numerics
from genlat.progress import TrainProgress
from genlat.rundir import RunDir
from genlat.runlock import RunLock
from genlat.tracking import NullTracker, Tracker
from genlat.trainers import build_trainer


def make_accelerator(cfg: TrainConfig, existing: dict | None = None, run_path: str = "the run directory"):
    """(Accelerator, Numerics): the precision and layout resolved for the device (genlat.precision);
    an existing run keeps the precision it started with."""
    numerics = resolve_numerics(cfg, existing, run_path)
    return numerics.accelerator(), numerics


def library_versions() -> dict[str, str]:
    """From the installed packages' metadata: importing torchvision and wandb here cost ≈ 1.5 CPU-s."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return {"python": sys.version.split()[0], "torch": torch.__version__,
            **{name: installed(name) for name in ("torchvision", "accelerate", "wandb")}}


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


class StopFlag:
    """SIGTERM/SIGINT ask the run to stop at the next step; the last checkpoint stays the resume point."""

    def __init__(self):
        self.raised = False
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.raised = True

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def train(cfg: TrainConfig) -> int:
    faults.check_env()
    run = RunDir(Path(cfg.out) / cfg.run_name)
    accelerator, numerics = make_accelerator(cfg, _read_record(run), str(run.path))
    lock = RunLock(run.path)
    try:
        return _train_run(cfg, accelerator, numerics, run, lock)
    finally:
        lock.release()


def _train_run(cfg: TrainConfig, accelerator: Accelerator, numerics, run: RunDir, lock: RunLock) -> int:
    main = accelerator.is_main_process
    source = build_source(cfg)  # a missing or broken dataset stops us here, before any work
    steps = source.steps_per_epoch(cfg.batch_size, accelerator.num_processes)  # refuses 0 steps
    check_feature_net(cfg, source)  # every rank: a damaged shipped feature net stops all of them here
    existing, state, start_epoch, notes = resume_point(cfg, run)
    progress = TrainProgress(main, cfg.epochs, steps, cfg.log_every)
    if start_epoch >= cfg.epochs:  # a rerun that has nothing to do writes nothing
        progress.print(f"{run.path}: already trained {start_epoch} of {cfg.epochs} epochs; nothing to do")
        return EXIT_OK
    run_id = (state or {}).get("wandb_id") or (existing or {}).get("wandb_id") or new_run_id()

    trainer = build_trainer(cfg, accelerator, source)
    if state:
        trainer.load_state(state)
    trainer.prepare()
    record = {
        **cfg.to_dict(),
        **numerics.record(),  # what auto became: mixed_precision_resolved, channels_last_resolved
        "run_name": cfg.run_name,
        "wandb_id": run_id,
        "image_channels": source.channels,
        **trainer.param_counts(),
        "world_size": accelerator.num_processes,
        "steps_per_epoch": steps,
        "images_per_epoch": steps * cfg.batch_size * accelerator.num_processes,
        "device": accelerator.device.type,
        "versions": library_versions(),
        "started": (existing or {}).get("started") or datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    evaluator, watch = None, None  # the evaluator, like the grid, is the main process's alone; bad weights stop us here
    if main and cfg.eval_every and cfg.eval_samples:
        evaluator = Evaluator(cfg, source, accelerator.device, log=progress.print)
    _open_run_dir(accelerator, run, lock, record)
    if main:
        run.keep_metrics_through(start_epoch)
        for path in run.remove_temp_files():
            progress.print(f"[note] removed {path.name}, a write cut short by a kill (the file it was replacing is intact)")
        for note in notes + ([f"resuming {run.path} after epoch {start_epoch}"] if start_epoch else []):
            progress.print(note)
        progress.print(numerics.describe())
        history = [r.get("epoch/bank_spread") for r in run.read_metrics()]
        watch = CollapseWatch(_real_spread(cfg, source, accelerator.device), cfg.collapse_spread, cfg.collapse_epochs, history)
    tracker = Tracker(cfg, run, run_id, record, trainer.SERIES, trainer.GRIDS) if main else NullTracker()
    if evaluator is not None:
        tracker.summary(evaluator.summary())
        tracker.config(evaluator.stamp())
    accelerator.wait_for_everyone()
    with StopFlag() as stop, progress:
        try:
            code = _train_epochs(cfg, accelerator, trainer, source, run, tracker, progress, stop, start_epoch, steps,
                                 run_id, evaluator, watch)
        except OutputError as e:  # a full disk mid-run: the last checkpoint stays the resume point
            if main:
                _record_failure(run, str(e))
                tracker.finish(exit_code=e.exit_code)
            raise
    if main:
        if code == EXIT_OK:
            tracker.log_final_tables(run.read_metrics(), _panel_rows(cfg, trainer.interp_methods, run))
        tracker.finish(exit_code=code)
        progress.print(_closing_line(code, run, tracker))
    return code


def resume_point(cfg: TrainConfig, run: RunDir) -> tuple[dict | None, dict | None, int, list[str]]:
    """Where this command starts: the run's config (checked against the command, as is the config
    the checkpoint holds), the checkpoint to load, its epoch, and notes to print. Reads only."""
    existing = _read_record(run)
    state, skipped = load_latest(run.checkpoints)
    for record in (existing, (state or {}).get("config")):
        if record:
            check_compatible(cfg, run, record)
    if cfg.resume and state is None and existing is None:
        raise ConfigError(f"--resume: there is no run in {run.path} to resume; drop --resume to start it")
    notes = [f"[warning] skipped an unreadable checkpoint: {note}" for note in skipped]
    if skipped and state is None:
        notes.append(f"[warning] no checkpoint in {run.checkpoints} could be read: training starts again from epoch 0")
    start = state["epoch"] if state else 0
    rows, bad = run.read_metrics_checked()
    if bad:
        notes.append(f"[warning] {run.metrics}: line {', '.join(map(str, bad))} damaged and dropped; every intact line is kept")
    missing = sorted(set(range(1, start + 1)) - {r["epoch"] for r in rows})
    if missing and (older := load_epoch(run.checkpoints, missing[0] - 1)) is not None:
        notes.append(f"[note] epoch {missing[0]} has no metrics line: replaying from the checkpoint of epoch {missing[0] - 1}")
        state, start = older, missing[0] - 1
    elif missing:
        notes.append(f"[warning] epoch(s) {', '.join(map(str, missing))} have no metrics line and no checkpoint "
                     "to replay them from is kept: their numbers are lost")  # fmt: skip
    return existing, state, start, notes


def _read_record(run: RunDir) -> dict | None:
    try:
        record = run.read_config()
    except (OSError, ValueError) as e:  # ValueError: invalid JSON or UTF-8
        record = e
    if record is None or isinstance(record, dict):
        return record
    raise OutputError(f"{run.config} is damaged ({type(record).__name__}): move it away and re-run the same command "
                      "(the checkpoint holds the run's config), or pick another --name")


def _open_run_dir(accelerator: Accelerator, run: RunDir, lock: RunLock, record: dict) -> None:
    """Create the run folder and take its lock (main process), then write config.json. Every rank
    stops when the main process cannot: one writer per run folder."""
    refused = None
    if accelerator.is_main_process:
        try:
            run.create()
            lock.acquire()
            run.write_config(record)
        except OSError as e:
            refused = OutputError(f"cannot write the run directory {run.path}: {e.strerror}; check --out")
        except OutputError as e:
            refused = e
    if _agree(accelerator, refused is not None):
        raise refused or OutputError(f"the main process could not open {run.path}")


def _record_failure(run: RunDir, reason: str) -> None:
    """status.json says why the run stopped (not "running"), even on a full disk: the atomic write
    needs a new file; overwriting the old one in place needs no new block."""
    try:
        last = (run.read_status() or {}).get("epoch", 0)
    except (OSError, ValueError, AttributeError):
        last = 0
    try:
        run.write_status("failed", last, reason=reason)
    except OSError:
        try:
            with open(run.status, "r+") as f:
                f.write(json.dumps({"state": "failed", "epoch": last}))
                f.truncate()
        except OSError:
            pass  # nothing more can be written; the exit code still says it


def _real_spread(cfg, source, device) -> float:
    """The spread of as many real images as the latent bank holds: the collapse rule's yardstick."""
    n = max(2, min(cfg.n_samples, len(source)))
    return spread(next(iter(source.batches(0, n, 0, 1, device))))


def _agree(accelerator, flag: bool) -> bool:
    """True on every rank when it is true on any (the main process alone samples the bank)."""
    if accelerator.num_processes == 1:
        return flag
    t = torch.tensor([float(flag)], device=accelerator.device)
    return bool(accelerator.reduce(t, reduction="max").item())


def _write_error(e: OSError, run: RunDir) -> OutputError:
    if e.errno == errno.ENOSPC:
        return OutputError(f"no space left on the disk holding {run.path}: free some, then re-run the same command "
                           "(it resumes from the last checkpoint)")  # fmt: skip
    return OutputError(f"cannot write {e.filename or run.path}: {e.strerror or e}; check --out, then re-run the same "
                       "command to resume")  # fmt: skip


def _diverged(run, tracker, progress, epoch: int, last_good: int, reason: str) -> int:
    run.write_status("diverged", last_good, reason=reason)
    tracker.summary({"state": "diverged", "diverged_epoch": epoch, "reason": reason})
    progress.print(f"diverged in epoch {epoch}: {reason}")
    return EXIT_DIVERGED


def _train_epochs(cfg, accelerator, trainer, source, run, tracker, progress, stop, start_epoch, steps, run_id,
                  evaluator=None, watch=None) -> int:
    main, world = accelerator.is_main_process, accelerator.num_processes

    def should_stop(step: int) -> bool:
        if world > 1 and step % cfg.log_every and step != steps:
            return False  # ranks agree only every log_every steps (a collective), or one would wait forever
        return _agree(accelerator, stop.raised)

    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        faults.set_epoch(epoch)
        progress.start_epoch(epoch)
        t0 = time.perf_counter()
        base = (epoch - 1) * steps

        def on_step(step, sums):
            if step == max(1, steps // 2):
                faults.hit("mid-epoch")
            progress.advance(cfg.batch_size * world)
            if main and (step % cfg.log_every == 0 or step == steps):
                now = dict(zip(trainer.STATS, (sums / step).tolist()))  # one host sync every log_every steps
                rate = step * cfg.batch_size * world / max(time.perf_counter() - t0, 1e-9)
                progress.show({label: now[name] for label, name in trainer.PROGRESS}, rate)
                tracker.log_train(base + step, now)

        batches = source.batches(epoch, cfg.batch_size, accelerator.process_index, world, accelerator.device)
        stats = trainer.train_epoch(epoch, batches, steps, on_step, should_stop)
        if stats.preempted:
            if main:
                run.write_status("preempted", epoch - 1)
                progress.print(f"stopped by a signal in epoch {epoch}; resume with the same command")
            return EXIT_PREEMPTED
        if faults.hit("loss"):
            stats.means[next(iter(stats.means))] = float("nan")
        reason = nonfinite(stats.means)  # the same reduced means on every rank
        if reason:  # nothing of this epoch is written: the last checkpoint is the last good state
            return _diverged(run, tracker, progress, epoch, epoch - 1, reason) if main else EXIT_DIVERGED
        if main:
            try:
                row = _write_epoch(cfg, trainer, run, tracker, epoch, stats, evaluator, watch)
                reason = watch.update(row["epoch/bank_spread"])
                state = {**trainer.state_dict(), "epoch": epoch, "wandb_id": run_id, "config": cfg.to_dict()}
                save_checkpoint(run.checkpoints, epoch, state, cfg.keep_checkpoints)
                if not reason:
                    run.write_status("finished" if epoch == cfg.epochs else "running", epoch)
            except OSError as e:
                raise _write_error(e, run) from None
            progress.end_epoch(
                f"epoch {epoch}/{cfg.epochs}  " + "".join(f"{k} {v:.3f}  " for k, v in stats.means.items()) +
                f"{row['epoch/images_per_s']:,.0f} img/s  {time.perf_counter() - t0:.1f}s"
                + (f"  FD {row['eval/fd']:.3g}  recall {row['eval/recall']:.2f}" if "eval/fd" in row else "")
            )
        if _agree(accelerator, bool(reason)):  # collapsed: the epoch is kept (its grid shows it), the run ends
            return _diverged(run, tracker, progress, epoch, epoch, reason) if main else EXIT_DIVERGED
        accelerator.wait_for_everyone()
    return EXIT_OK


def _write_epoch(cfg, trainer, run, tracker, epoch, stats, evaluator=None, watch=None) -> dict:
    """The epoch's grid and panels as PNGs, its metrics line, and its W&B entries."""
    t0 = time.perf_counter()
    grid = run.sample_png(epoch)
    bank = trainer.sample_bank()
    save_png(grid_array(bank, cfg.grid_nrow), grid)
    extra = {}
    for name, images in trainer.extra_grids().items():  # VAE: "reconstruction"
        save_png(grid_array(images, cfg.grid_nrow), run.grid_png(name, epoch))
        extra[f"{name}_grid"] = str(run.grid_png(name, epoch).relative_to(run.path))
    panels = {}
    if epoch == cfg.epochs or (cfg.interp_every and epoch % cfg.interp_every == 0):
        for method in trainer.interp_methods:
            paths = trainer.interpolate(method)  # (pairs, steps, C, H, W)
            save_png(panel_array(paths), run.panel_png(epoch, method))
            panels[method] = []
            for pair in range(paths.shape[0]):
                save_png(panel_array(paths[pair : pair + 1]), run.panel_row_png(epoch, method, pair))
                panels[method].append(run.panel_row_png(epoch, method, pair))
    # Keys are the W&B keys, so a sweep's metric name finds its value here too.
    row = {
        "epoch": epoch,
        **{f"epoch/{name}": value for name, value in stats.means.items()},
        "epoch/steps": stats.steps,
        "epoch/images": stats.images,
        "epoch/train_seconds": round(stats.seconds, 4),
        "epoch/images_per_s": stats.images / max(stats.seconds, 1e-9),
        "sample_grid": str(grid.relative_to(run.path)),
        **extra,
        **trainer.latent_stats(),  # VAE: eval/active_units, eval/kl, eval/kl_per_dim
    }
    if watch is not None:
        row["epoch/bank_spread"] = watch.ratio(bank)  # genlat.health: ~1 like real data, 0 when every z gives one image
    row["epoch/write_seconds"] = round(time.perf_counter() - t0, 4)
    if evaluator is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs):
        row.update(evaluator(trainer.generate, trainer.accelerator.unwrap_model(trainer.decoder)))  # eval/* keys, eval/seconds its cost
    run.append_metrics(row)
    tracker.log_epoch(epoch, row)
    if panels:
        tracker.log_panels(epoch, panels)
    return row


def _panel_rows(cfg, methods: list[str], run: RunDir):
    """Every interpolation-table row, read back from the run directory."""
    panels = []
    for epoch in sorted({r["epoch"] for r in run.read_metrics()}):
        for method in methods:
            pair = 0
            while run.panel_row_png(epoch, method, pair).exists():
                panels.append([epoch, cfg.zn, method, pair, run.panel_row_png(epoch, method, pair)])
                pair += 1
    return panels


def _closing_line(code: int, run: RunDir, tracker) -> str:
    folders = "".join(f"{d.name}/, " for d in (run.samples, run.reconstructions, run.interpolation) if d.is_dir())
    what = {EXIT_OK: "done", EXIT_PREEMPTED: "preempted (resumable)", EXIT_DIVERGED: "diverged"}.get(code, "stopped")
    return (
        f"{what}: run directory {run.path}  ({folders}metrics.jsonl, checkpoints/)\n"
        f"{tracker.location}"
    )
