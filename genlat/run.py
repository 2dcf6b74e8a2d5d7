"""One run as an object whose state lives on `self`: `Run(cfg).train()` prepares (checks every input,
resumes the trainer, opens the run directory and W&B), then for each epoch trains, draws, measures,
records and checkpoints, and finishes. Returns an exit code (genlat.errors).

Order of writes at the end of an epoch: PNGs, the metrics line, W&B, then the checkpoint. A kill
before the checkpoint lands replays that epoch on resume (exactly: its data order and z come from
the seed and epoch), and the replayed epoch's metrics line replaces the orphan one.
"""

from __future__ import annotations

import errno
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

import torch

from genlat import faults
from genlat.checkpoint import save_checkpoint
from genlat.config import TrainConfig
from genlat.data import build_source, check_evaluable
from genlat.errors import EXIT_DIVERGED, EXIT_OK, EXIT_PREEMPTED, GenlatError, OutputError
from genlat.grids import SAMPLES
from genlat.health import CollapseWatch, nonfinite, spread
from genlat.ids import new_run_id
from genlat.images import grid_array, panel_array, save_png
from genlat.interrupts import Deferred
from genlat.metrics.evaluate import Evaluator, check_feature_net
from genlat.morph import write_gif
from genlat.precision import resolve as resolve_numerics
from genlat.progress import TrainProgress
from genlat.records import Damaged, png_problem
from genlat.resume import check_same_identity, read_record, resume_point
from genlat.rundir import RunDir
from genlat.runlock import RunLock
from genlat.tracking import NullTracker, Tracker
from genlat.trainers import EpochStats, build_trainer, checkpoint_shapes


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

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        **{name: installed(name) for name in ("torchvision", "accelerate", "wandb")},
    }


@dataclass
class Drawn:
    """What `Run.draw` wrote for one epoch."""

    bank: torch.Tensor  # the latent bank's images (n_samples, C, H, W)
    grids: dict[str, str] = field(default_factory=dict)  # metrics row key -> PNG path inside the run directory
    panels: dict[str, list[Path]] = field(default_factory=dict)  # method -> one PNG per endpoint pair


class Run:
    def __init__(self, cfg: TrainConfig, quiet: bool = False):
        """Resolve the precision (a resumed run keeps its own); nothing is read or written beyond config.json."""
        faults.check_env()
        self.cfg, self.quiet = cfg, quiet
        self.dir = RunDir(Path(cfg.out) / cfg.run_name)
        self.record_seen = read_record(self.dir)  # read again under the lock (`claim`): it must not have changed
        self.accelerator, self.numerics = make_accelerator(cfg, self.record_seen, str(self.dir.path))
        self.main = self.accelerator.is_main_process
        self.lock = RunLock(self.dir.path)
        self.stop = (
            Deferred()
        )  # SIGTERM/SIGINT ask the run to stop at the next step; the last checkpoint stays the resume point
        self.tracker, self.evaluator, self.watch = NullTracker(), None, None  # the main process's, from `prepare`

    def train(self) -> int:
        """The run, top to bottom."""
        try:
            with self.stop:  # from here a signal stops the run at its first step (preempted, resumable)
                if not self.prepare():
                    return EXIT_OK
                with self.progress:
                    code = self.train_epochs()
            self.finish(code)
            return code
        finally:
            self.lock.release()

    def prepare(self) -> bool:
        """Check every input and build the trainer (resumed from its checkpoint) before anything is
        created, then open the run directory and W&B. False when there is nothing left to train."""
        cfg, acc = self.cfg, self.accelerator
        with self.stop.prompt():  # reading the data can take minutes: a stop ends it (exit 75), nothing created
            self.source = build_source(cfg)  # a missing or broken dataset stops us here, before any work
            self.steps = self.source.steps_per_epoch(cfg.batch_size, acc.num_processes)  # refuses 0 steps
            check_evaluable(self.source, bool(cfg.eval_every and cfg.eval_samples))  # too few images to measure
            check_feature_net(cfg, self.source)  # every rank: a damaged shipped feature net stops all of them here
        self.claim()
        try:  # every check of what the folder holds happens under its lock
            return self.prepare_claimed()
        except (GenlatError, KeyboardInterrupt):  # also a stop (StopRequested) before the folder is written
            self.unclaim()
            raise

    def prepare_claimed(self) -> bool:
        cfg, acc = self.cfg, self.accelerator
        if read_record(self.dir) != self.record_seen:
            raise OutputError(f"{self.dir.config} changed while this command started (another command on the same "
                              "folder?): re-run the same command")  # fmt: skip
        with self.stop.prompt():  # reads only
            point = resume_point(cfg, self.dir, checkpoint_shapes(cfg, self.source.channels))
        check_same_identity(self.dir, (point.existing, (point.state or {}).get("identity")),
                            self.numerics.mixed_precision, acc.num_processes)  # fmt: skip
        self.existing, self.start_epoch = point.existing, point.epoch
        self.progress = TrainProgress(self.main and not self.quiet, cfg.epochs, self.steps)
        if self.start_epoch >= cfg.epochs:  # a rerun that has nothing to do writes nothing (but a stale status)
            self.progress.print(
                f"{self.dir.path}: already trained {self.start_epoch} of {cfg.epochs} epochs; nothing to do"
            )
            self.settle_status(point)
            return False
        self.run_id = (point.state or {}).get("wandb_id") or (self.existing or {}).get("wandb_id") or new_run_id()
        with self.stop.prompt():  # builds in memory only; a first-use feature net can train for minutes
            self.trainer = build_trainer(cfg, acc, self.source)
            if point.state:
                self.load_state(point)
            self.trainer.prepare()
            if self.main and cfg.eval_every and cfg.eval_samples:  # like the grid, the main process's alone
                self.evaluator = Evaluator(
                    cfg, self.source, acc.device, log=self.progress.print
                )  # bad weights stop us here
        self.run_config = self.config_record()
        self.open_directory()
        if self.main:
            self.start_main(point.notes)
        acc.wait_for_everyone()
        return True

    def train_epochs(self) -> int:
        """Every epoch still to train: train, then (main process) draw, measure, record, checkpoint."""
        try:
            for epoch in range(self.start_epoch + 1, self.cfg.epochs + 1):
                faults.set_epoch(epoch)
                t0 = time.perf_counter()
                stats = self.train_epoch(epoch)
                if stats.preempted:
                    return self.preempted(epoch)
                if faults.hit("loss"):
                    stats.means[next(iter(stats.means))] = float("nan")
                reason = nonfinite(stats.means)  # the same reduced means on every rank
                if reason:  # nothing of this epoch is written: the last checkpoint is the last good state
                    return self.diverged(epoch, epoch - 1, reason)
                reason = self.end_epoch(epoch, stats, t0) if self.main else None
                if self.agree(bool(reason)):  # collapsed: the epoch is kept (its grid shows it), the run ends
                    return self.diverged(epoch, epoch, reason)
                self.accelerator.wait_for_everyone()
        except OutputError as e:  # a full disk mid-run: the last checkpoint stays the resume point
            if self.main:
                self.record_failure(str(e))
                self.tracker.finish(exit_code=e.exit_code)
            raise
        return EXIT_OK

    def train_epoch(self, epoch: int, steps: int = 0) -> EpochStats:
        """One epoch's training steps (its first `steps` alone when given), with the progress bar, a
        `train/*` point every log_every steps, and a stop at a signal (preempted)."""
        cfg, acc = self.cfg, self.accelerator
        self.progress.start_epoch(epoch)
        batches = self.source.batches(epoch, cfg.batch_size, acc.process_index, acc.num_processes, acc.device)
        t0, sums, done = time.perf_counter(), None, 0
        for done, sums in self.trainer.train_steps(epoch, islice(batches, steps or None)):
            if done == max(1, self.steps // 2):
                faults.hit("mid-epoch")
            self.progress.advance()
            if self.main and (done % cfg.log_every == 0 or done == self.steps):
                self.log_step(epoch, done, sums, t0)
            if self.stop_requested(done):
                return EpochStats(steps=done, seconds=time.perf_counter() - t0, preempted=True)
        return self.trainer.epoch_stats(sums, done, t0)

    def end_epoch(self, epoch: int, stats: EpochStats, t0: float) -> str | None:
        """The main process's work after an epoch's training; returns why the run collapsed, or None."""
        try:
            row, panels = self.epoch_row(epoch, stats, measure=self.evaluation_due(epoch))
            self.record(epoch, row, panels)
            reason = self.watch.update(row["epoch/bank_spread"])
            self.checkpoint(epoch)
            if not reason:
                self.dir.write_status("finished" if epoch == self.cfg.epochs else "running", epoch)
        except OSError as e:
            raise self.write_error(e) from None
        self.progress.end_epoch(_epoch_line(epoch, self.cfg.epochs, stats, row, time.perf_counter() - t0))
        return reason

    # --- the phases of an epoch, each usable alone (benchmarks/costs.py times them) ---
    def epoch_row(self, epoch: int, stats: EpochStats, measure: bool) -> tuple[dict, dict[str, list[Path]]]:
        """Draw the epoch (PNGs), then its metrics line (keys are the W&B keys, so a sweep's metric name
        finds its value here too) and its panels; `measure` adds the evaluation's eval/* entries."""
        started = time.perf_counter()
        drawn = self.draw(epoch)
        row = {**self.train_numbers(epoch, stats), **drawn.grids, **self.trainer.latent_stats()}
        if self.watch is not None:  # genlat.health: ~1 like real data, 0 when every z gives one image
            row["epoch/bank_spread"] = self.watch.ratio(drawn.bank)
        row["epoch/write_seconds"] = round(time.perf_counter() - started, 4)
        if measure:
            every = self.cfg.eval_full_every
            row.update(self.measure(full=epoch == self.cfg.epochs or bool(every and epoch % every == 0)))
        return row, drawn.panels

    def evaluation_due(self, epoch: int) -> bool:
        return self.evaluator is not None and (epoch % self.cfg.eval_every == 0 or epoch == self.cfg.epochs)

    def draw(self, epoch: int) -> Drawn:
        """The epoch's sample grid, the family's extra grids and, in panel epochs, the interpolation
        panels (whole and one PNG per row), as PNGs in the run directory."""
        cfg, trainer, run = self.cfg, self.trainer, self.dir
        drawn = Drawn(trainer.sample_bank())
        for grid, images in {SAMPLES: drawn.bank, **trainer.extra_grids()}.items():  # VAE: also RECONSTRUCTIONS
            save_png(grid_array(images, cfg.grid_nrow), run.grid_png(grid, epoch))
            drawn.grids[grid.row_key] = str(run.grid_png(grid, epoch).relative_to(run.path))
        if epoch == cfg.epochs or (cfg.interp_every and epoch % cfg.interp_every == 0):
            for method in trainer.interp_methods:
                paths = trainer.interpolate(method)  # (pairs, steps, C, H, W)
                save_png(panel_array(paths), run.panel_png(epoch, method))
                drawn.panels[method] = [run.panel_row_png(epoch, method, pair) for pair in range(paths.shape[0])]
                for pair, path in enumerate(drawn.panels[method]):
                    save_png(panel_array(paths[pair : pair + 1]), path)
        return drawn

    def measure(self, full: bool = True) -> dict:
        """eval/* of the generator as it is now (eval/seconds its cost); {} when evaluation is off;
        `full`: with the path and claim measures (see --eval_full_every)."""
        if self.evaluator is None:
            return {}
        # the trainer's generate and decoder are already unwrapped (autocast kept)
        return self.evaluator(self.trainer.generate, self.trainer.decoder, full=full)

    def record(self, epoch: int, row: dict, panels: dict[str, list[Path]]) -> None:
        """The epoch's metrics line, then its W&B entries."""
        self.dir.append_metrics(row)
        self.tracker.log_epoch(epoch, row)
        if panels:
            self.tracker.log_panels(epoch, panels)

    def checkpoint(self, epoch: int) -> None:
        identity = {
            "mixed_precision_resolved": self.numerics.mixed_precision,
            "world_size": self.accelerator.num_processes,
        }
        state = {
            **self.trainer.state_dict(),
            "epoch": epoch,
            "wandb_id": self.run_id,
            "config": self.cfg.to_dict(),
            "identity": identity,
        }  # what a resume must not change (genlat.resume.check_same_identity)
        best = self.tracker.best.epoch(self.dir.read_metrics()) == epoch  # the run's best so far: best.pt too
        save_checkpoint(self.dir.checkpoints, epoch, state, self.cfg.keep_checkpoints, best=best)

    def finish(self, code: int) -> None:
        """The final W&B tables (after a whole run), W&B's exit code, and the closing line."""
        if not self.main:
            return
        if code == EXIT_OK:
            self.tracker.log_final_tables(*self.final_rows(), morphs=self.final_morphs())
        self.tracker.finish(exit_code=code)
        self.progress.print(_closing_line(code, self.dir, self.tracker))

    # --- ways a run ends early ---
    def preempted(self, epoch: int) -> int:
        if self.main:
            self.dir.write_status("preempted", epoch - 1)
            self.progress.print(f"stopped by a signal in epoch {epoch}; resume with the same command")
        return EXIT_PREEMPTED

    def diverged(self, epoch: int, last_good: int, reason: str | None) -> int:
        if self.main:
            self.dir.write_status("diverged", last_good, reason=reason)
            self.tracker.summary({"state": "diverged", "diverged_epoch": epoch, "reason": reason})
            self.progress.print(f"diverged in epoch {epoch}: {reason}")
        return EXIT_DIVERGED

    def load_state(self, point) -> None:
        try:
            self.trainer.load_state(point.state)
        except (KeyError, TypeError, ValueError, RuntimeError) as e:  # e.g. an optimizer state of other shapes
            raise OutputError(
                f"the checkpoint of epoch {point.epoch} in {self.dir.checkpoints} does not fit this "
                f"run ({type(e).__name__}): move it away and re-run the same command"
            ) from None

    def settle_status(self, point) -> None:
        """A run whose every epoch is checkpointed but whose status.json does not say so (a kill between
        the last checkpoint and its status, a damaged status.json) is finished: say it, so nothing
        lists it as running."""
        if not self.main:
            return
        record = self.existing or (point.state or {}).get("config") or {}
        if self.start_epoch < record.get("epochs", self.cfg.epochs):
            return  # --epochs below the run's own: the run itself is not done
        try:
            status = self.dir.read_status()
        except Damaged:
            status = None
        if status is None or status["state"] in ("running", "preempted", "failed"):
            try:
                self.dir.write_status("finished", self.start_epoch)
            except OSError as e:
                raise self.write_error(e) from None
            self.progress.print(
                f"[note] {self.dir.status} said {(status or {}).get('state', 'nothing')}; "
                f"now finished (epoch {self.start_epoch})"
            )

    def record_failure(self, reason: str) -> None:
        """status.json says why the run stopped (not "running"), even on a full disk: the atomic write
        needs a new file; overwriting the old one in place needs no new block."""
        try:
            last = (self.dir.read_status() or {}).get("epoch", 0)
        except (OSError, ValueError, AttributeError):
            last = 0
        try:
            self.dir.write_status("failed", last, reason=reason)
        except OSError:
            try:
                with open(self.dir.status, "r+") as f:
                    f.write(json.dumps({"state": "failed", "epoch": last}))
                    f.truncate()
            except OSError:
                pass  # nothing more can be written; the exit code still says it

    # --- opening the run ---
    def config_record(self) -> dict:
        """config.json: the config as run, what auto became, and what it ran with."""
        cfg, acc = self.cfg, self.accelerator
        return {
            **cfg.to_dict(),
            **self.numerics.record(),  # mixed_precision_resolved, channels_last_resolved
            "run_name": cfg.run_name,
            "wandb_id": self.run_id,
            "image_channels": self.source.channels,
            **self.trainer.param_counts(),
            "world_size": acc.num_processes,
            "steps_per_epoch": self.steps,
            "images_per_epoch": self.steps * cfg.batch_size * acc.num_processes,
            "device": acc.device.type,
            "versions": library_versions(),
            "started": (self.existing or {}).get("started") or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def claim(self) -> None:
        """The main process takes the run folder's lock before anything in it is read or checked
        (two commands started together on one folder cannot both act on what they read), and refuses
        a folder where genlat's own paths are links. A folder made only for the lock goes again on refusal."""
        refused, self.made_folders = None, []
        if self.main:
            try:
                self.made_folders = _missing_folders(self.dir.path)  # the run folder and any --out above it
                self.dir.path.mkdir(parents=True, exist_ok=True)
                self.lock.acquire()
                self.dir.check_no_links()
            except OSError as e:
                refused = OutputError(f"cannot write the run directory {self.dir.path}: {e.strerror}; check --out")
            except OutputError as e:
                refused = e
            if refused is not None:
                self.unclaim()
        if self.agree(refused is not None):
            raise refused or OutputError(f"the main process could not open {self.dir.path}")

    def unclaim(self) -> None:
        """Release the lock; remove the folders this command made when they hold only the lock."""
        if not self.main:
            return
        self.lock.release()
        if self.made_folders:
            try:
                self.lock.path.unlink(missing_ok=True)
                for folder in self.made_folders:  # innermost first; rmdir fails, harmlessly, on a folder not empty
                    folder.rmdir()
            except OSError:
                pass
            self.made_folders = []

    def open_directory(self) -> None:
        """Create the run folder and take its lock (main process), then write config.json. Every rank
        stops when the main process cannot: one writer per run folder."""
        refused = None
        if self.main:
            try:
                self.dir.create()
                self.lock.acquire()
                self.dir.write_config(self.run_config)
            except OSError as e:
                refused = OutputError(f"cannot write the run directory {self.dir.path}: {e.strerror}; check --out")
            except OutputError as e:
                refused = e
        if self.agree(refused is not None):
            raise refused or OutputError(f"the main process could not open {self.dir.path}")

    def start_main(self, notes: list[str]) -> None:
        """The main process's start: tidy what a kill left, say where the run stands, the collapse
        watch, W&B (started in the background) and the evaluation's stamp."""
        cfg, run, say = self.cfg, self.dir, self.progress.print
        run.keep_metrics_through(self.start_epoch)
        for path in run.remove_temp_files():
            say(f"[note] removed {path.name}, a write cut short by a kill (the file it was replacing is intact)")
        for note in notes + ([f"resuming {run.path} after epoch {self.start_epoch}"] if self.start_epoch else []):
            say(note)
        say(self.numerics.describe())
        history = [r.get("epoch/bank_spread") for r in run.read_metrics()]
        self.watch = CollapseWatch(self.real_spread(), cfg.collapse_spread, cfg.collapse_epochs, history)
        self.tracker = Tracker(cfg, run, self.run_id, self.run_config, self.trainer.SERIES, self.trainer.GRIDS)
        if self.evaluator is not None:
            self.tracker.summary(self.evaluator.summary())
            self.tracker.config(self.evaluator.stamp())

    # --- helpers ---
    def train_numbers(self, epoch: int, stats: EpochStats) -> dict:
        """The epoch's training entries of its metrics line."""
        return {
            "epoch": epoch,
            **{f"epoch/{name}": value for name, value in stats.means.items()},
            "epoch/steps": stats.steps,
            "epoch/images": stats.images,
            "epoch/train_seconds": round(stats.seconds, 4),
            "epoch/images_per_s": stats.images / max(stats.seconds, 1e-9),
        }

    def final_rows(self) -> tuple[list[dict], list[list]]:
        """The final W&B tables' rows, read back from the run directory (they span resumes): the metrics
        rows whose grid PNGs, and the panel rows whose PNGs, read back intact (genlat.records); a damaged
        one (a garbage file, a folder or FIFO in its place) is left out of the tables with a warning."""
        grids = (SAMPLES, *self.trainer.GRIDS)

        def intact(relative) -> bool:
            inside = isinstance(relative, str) and not Path(relative).is_absolute() and ".." not in Path(relative).parts
            problem = png_problem(self.dir.path / relative) if inside else "not a path in the run folder"
            if problem:
                self.progress.print(
                    f"[warning] {self.dir.path / str(relative)}: {problem}; left out of the final W&B tables"
                )
            return not problem

        rows = [r for r in self.dir.read_metrics() if all(intact(r.get(g.row_key)) for g in grids)]
        panels = [r for r in self.panel_rows() if intact(str(r[4].relative_to(self.dir.path)))]
        return rows, panels

    def final_morphs(self) -> list[tuple[int, str, Path]]:
        """(epoch, method, GIF) of the final epoch's morph of each method (genlat.morph), written into the
        run folder from its panel PNG. A damaged or missing panel, or a GIF that cannot be written, is
        left out with a warning: the run has trained, its end must not fail over an animation."""
        epoch, out = self.cfg.epochs, []
        for method in self.trainer.interp_methods:
            panel, gif = self.dir.panel_png(epoch, method), self.dir.morph_gif(epoch, method)
            problem = png_problem(panel)
            if not problem:
                try:
                    out.append((epoch, method, write_gif([panel], self.cfg.interp_steps, gif)))
                    continue
                except (OSError, ValueError) as e:  # a full disk; a panel of other dimensions than interp_steps
                    problem = f"no morph GIF ({e})"
            self.progress.print(f"[warning] {panel}: {problem}; left out of the final W&B tables")
        return out

    def panel_rows(self) -> list[list]:
        """Every interpolation-table row, read back from the run directory."""
        rows = []
        for epoch in sorted({r["epoch"] for r in self.dir.read_metrics()}):
            for method in self.trainer.interp_methods:
                for pair, png in enumerate(self.dir.panel_row_pngs(epoch, method)):
                    rows.append([epoch, self.cfg.zn, method, pair, png])
        return rows

    def log_step(self, epoch: int, step: int, sums: torch.Tensor, t0: float) -> None:
        now = dict(zip(self.trainer.STATS, (sums / step).tolist()))  # one host sync every log_every steps
        rate = step * self.cfg.batch_size * self.accelerator.num_processes / max(time.perf_counter() - t0, 1e-9)
        self.progress.show({label: now[name] for label, name in self.trainer.PROGRESS}, rate)
        self.tracker.log_train((epoch - 1) * self.steps + step, now)

    def stop_requested(self, step: int) -> bool:
        if self.accelerator.num_processes > 1 and step % self.cfg.log_every and step != self.steps:
            return False  # ranks agree only every log_every steps (a collective), or one would wait forever
        return self.agree(self.stop.raised)

    def agree(self, flag: bool) -> bool:
        """True on every rank when it is true on any (the main process alone samples the bank)."""
        if self.accelerator.num_processes == 1:
            return flag
        t = torch.tensor([float(flag)], device=self.accelerator.device)
        return bool(self.accelerator.reduce(t, reduction="max").item())

    def real_spread(self) -> float:
        """The spread of as many real images as the latent bank holds: the collapse rule's yardstick."""
        n = max(2, min(self.cfg.n_samples, len(self.source)))
        return spread(next(iter(self.source.batches(0, n, 0, 1, self.accelerator.device))))

    def write_error(self, e: OSError) -> OutputError:
        if e.errno == errno.ENOSPC:
            return OutputError(f"no space left on the disk holding {self.dir.path}: free some, then re-run the same "
                               "command (it resumes from the last checkpoint)")  # fmt: skip
        return OutputError(f"cannot write {e.filename or self.dir.path}: {e.strerror or e}; check --out, then re-run "
                           "the same command to resume")  # fmt: skip


def _missing_folders(path: Path) -> list[Path]:
    """`path` and its ancestors that do not exist yet, innermost first."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _epoch_line(epoch: int, epochs: int, stats: EpochStats, row: dict, seconds: float) -> str:
    return (
        f"epoch {epoch}/{epochs}  "
        + "".join(f"{k} {v:.3f}  " for k, v in stats.means.items())
        + f"{row['epoch/images_per_s']:,.0f} img/s  {seconds:.1f}s"
        + (f"  FD {row['eval/fd']:.3g}  recall {row['eval/recall']:.2f}" if "eval/fd" in row else "")
    )


def _closing_line(code: int, run: RunDir, tracker) -> str:
    folders = "".join(f"{d.name}/, " for d in (run.samples, run.reconstructions, run.interpolation) if d.is_dir())
    what = {EXIT_OK: "done", EXIT_PREEMPTED: "preempted (resumable)", EXIT_DIVERGED: "diverged"}.get(code, "stopped")
    return f"{what}: run directory {run.path}  ({folders}metrics.jsonl, checkpoints/)\n{tracker.location}"
