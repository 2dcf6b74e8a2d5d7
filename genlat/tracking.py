"""Everything a run says to W&B goes through here; only the main process ever builds a `Tracker`.

Keys are stable so the W&B UI can merge them across the runs of a sweep:
  train/<stat>  (GAN: loss_d, loss_g, d_real, d_fake; VAE: loss, recon, kl)  every `log_every` steps
  epoch/<stat>, epoch/images_per_s, ...                       once per epoch (x-axis: `epoch`);
                                                               metrics.jsonl uses the same keys
  eval/fd, eval/kid, eval/precision, eval/recall, eval/ppl, ... the epoch's evaluation (genlat.metrics);
                                                               the stamp (eval/feature_space, eval/samples,
                                                               eval/metric_version) also in summary and config
  eval/active_units, eval/kl, eval/kl_per_dim, eval/mu_var_per_dim (lists: histograms)  VAE: latent statistics
  samples                                                      the epoch's grid (an image)
  reconstructions                                              VAE: real images and their reconstructions
  epoch_series / interpolation                                 tables, an immutable copy at the end
  interpolation_morph/<method>                                 the final epoch's panel as an animated GIF
                                                               (a wandb.Video of the run folder's file), at the end
  epoch_series_live / interpolation_live                       the same rows, INCREMENTAL, as they come
The final tables are rebuilt from the run directory, so they hold every epoch even after a resume.

W&B conventions: job_type "train"; tags: the model, the dataset and, under a sweep, `sweep-ID`; the
config is the experiment's settings (config.json keeps the bookkeeping too); the summary of the
metric that ranks runs (genlat.keys.Best) is its best over epochs, not its last; a run stopped by a
signal is marked preempting before it ends with genlat's exit code, so W&B requeues a sweep's run.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from genlat.errors import EXIT_PREEMPTED
from genlat.grids import SAMPLES, Grid
from genlat.keys import STUDY_METRIC, SWEEP_METRIC_ENV, Best, morph_key
from genlat.metrics.registry import SERIES_KEYS, STEP_METRICS, step_metric
from genlat.rundir import RunDir
from genlat.wandb_access import base_url, resolve_mode, server_problem

SERIES_HEAD = ["epoch", "zn", "lr"]  # then the grids' columns, the trainer's SERIES, then the registry's SERIES_KEYS
INTERP_COLUMNS = ["epoch", "zn", "method", "pair", "panel"]
# config.json keys kept out of the W&B config: where and how this machine ran and showed the run (W&B
# has its own fields for the name, id, project, entity and group), not what the experiment was
BOOKKEEPING = (
    "out",
    "name",
    "resume",
    "debug",
    "log_every",
    "keep_checkpoints",
    "num_workers",
    "data_dir",
    "wandb_project",
    "wandb_entity",
    "wandb_group",
    "run_name",
    "wandb_id",
    "started",
)


def wandb_config(config_record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config_record.items() if k not in BOOKKEEPING}


def run_tags(cfg) -> list[str]:
    """The model, the dataset (its kind for folder:PATH) and the sweep: W&B's agent's, or genlat sweep's."""
    sweep = os.environ.get("WANDB_SWEEP_ID") or os.environ.get("GENLAT_SWEEP_ID")
    return [cfg.model, cfg.dataset.split(":", 1)[0], *([f"sweep-{sweep}"] if sweep else [])]


class Tracker:
    """W&B starts in a background thread: its import, its service and (online) the server probe take
    seconds that the first steps need not wait for. Train points and summary values wait in a queue
    until the run exists; everything else (the first epoch's entries, finish) waits for the start."""

    def __init__(
        self,
        cfg,
        run: RunDir,
        run_id: str,
        config_record: dict[str, Any],
        series_keys: tuple[str, ...],
        grids: tuple[Grid, ...] = (),
    ):
        self.cfg, self.run_dir = cfg, run
        self.mode = resolve_mode()
        # Table media are staged under WANDB_DATA_DIR; inside the run dir `wandb sync` finds them.
        os.environ["WANDB_DATA_DIR"] = str(run.wandb_data)
        kwargs = dict(
            project=cfg.wandb_project,
            entity=cfg.wandb_entity or None,
            group=cfg.wandb_group or None,
            name=cfg.run_name,
            id=run_id,
            resume="allow",
            dir=str(run.path),
            job_type="train",
            tags=run_tags(cfg),
            config=wandb_config(config_record),
        )
        self.series_keys, self.grids = tuple(series_keys), (SAMPLES, *grids)  # every grid the run draws
        # columns: epoch, zn, lr, grid, [reconstruction], the trainer's keys without their prefix, fd, kid, ...
        self.series_columns = (
            SERIES_HEAD
            + [g.column for g in self.grids]
            + [k.split("/", 1)[1] for k in self.series_keys]
            + [k.split("/", 1)[1] for k in SERIES_KEYS]
        )
        self._queue: list[tuple[str, dict]] = []  # ("log" | "summary" | "config", values) sent before the run existed
        self._media: dict[str, Any] = {}  # PNG path -> its wandb.Image: the final tables reuse this run's uploads
        self._error: BaseException | None = None
        self._finished = False
        self._best = Best()
        self._starter = threading.Thread(target=self._start_guarded, args=(kwargs,), name="wandb-start", daemon=True)
        self._starter.start()

    def _start_guarded(self, kwargs: dict) -> None:
        try:
            self._start(kwargs)
        except BaseException as e:  # raised in the main thread at the next call that needs the run
            self._error = e

    def _start(self, kwargs: dict) -> None:
        import wandb

        self.wandb = wandb
        problem = server_problem() if self.mode == "online" else None
        try:
            if problem:
                raise ConnectionError(f"cannot reach {base_url()}: {problem}")
            run = wandb.init(mode=self.mode, settings=self._settings(), **kwargs)
        except Exception as e:  # no network, a wrong API key, a server down: keep the run, log offline
            if self.mode != "online":
                raise
            why = " ".join(str(e).split())[:160] or type(e).__name__  # one line; W&B's messages never hold the key
            print(
                f"genlat: warning: W&B online failed ({why}); logging offline, "
                f"upload later with `wandb sync {self.run_dir.wandb}`",
                file=sys.stderr,
            )
            self.mode = "offline"
            _no_telemetry_to_the_failed_server()
            wandb.teardown()  # W&B's service still holds the failed run's id; a fresh one takes it offline
            run = wandb.init(mode="offline", settings=self._settings(), **kwargs)
        if self.mode == "online":  # where to watch it, now rather than only at the end
            print(f"W&B run {run.url}", file=sys.stderr)
        # Custom x-axes instead of W&B's own step, which cannot go back after a resume: each metric key's
        # from its prefix (the metric registry), then the media's and the live tables'.
        defined = set()
        for pattern, step in STEP_METRICS:
            if step not in defined:
                run.define_metric(step)
                defined.add(step)
            run.define_metric(pattern, step_metric=step)
        for key in (*(g.wandb_key for g in self.grids), "epoch_series_live", "interpolation_live"):
            run.define_metric(key, step_metric="epoch")
        self._best = self.sweep_best(run)
        run.define_metric(
            self._best.name, step_metric=step_metric(self._best.name), summary=self._best.summary
        )  # the summary: its best
        self.series_live = wandb.Table(columns=self.series_columns, log_mode="INCREMENTAL")
        self.interp_live = wandb.Table(columns=INTERP_COLUMNS, log_mode="INCREMENTAL")
        self.run = run

    def sweep_best(self, run) -> Best:
        """What ranks this run (genlat.keys.Best): genlat sweep hands its file's metric over in
        GENLAT_SWEEP_METRIC; under `wandb agent` the sweep's config is read from the server (the agent
        passes only the sweep's id); outside a sweep, or when that read fails, the study's metric."""
        if os.environ.get(SWEEP_METRIC_ENV):
            try:
                return Best.of(json.loads(os.environ[SWEEP_METRIC_ENV]))
            except ValueError:
                return Best()
        sweep_id = os.environ.get("WANDB_SWEEP_ID")
        if not sweep_id or self.mode != "online":
            return Best()
        try:
            sweep = self.wandb.Api(timeout=20).sweep(f"{run.entity}/{run.project}/{sweep_id}")
            return Best.of(sweep.config.get("metric"))
        except Exception as e:  # a server that does not answer this query: still a run, ranked the study's way
            why = " ".join(str(e).split())[:160] or type(e).__name__
            print(
                f"genlat: note: cannot read the metric of sweep {sweep_id} ({why}); best means {STUDY_METRIC}, "
                "minimized",
                file=sys.stderr,
            )
            return Best()

    @property
    def best(self) -> Best:
        """What ranks this run, once W&B has started (it may take the sweep's config to know)."""
        self._ready()
        return self._best

    @property
    def started(self) -> bool:
        return self._starter is None or not self._starter.is_alive()

    def _ready(self) -> None:
        """Wait for the start (once), raise its error, send what waited."""
        if self._starter is None:
            return
        self._starter.join()
        self._starter = None
        if self._error is not None:
            raise self._error
        for kind, values in self._queue:
            if kind == "config":
                self.run.config.update(values, allow_val_change=True)
            else:
                self.run.log(values) if kind == "log" else self.run.summary.update(values)
        self._queue.clear()

    def _settings(self):
        return self.wandb.Settings(init_timeout=30, silent=True, console="off")

    @property
    def location(self) -> str:
        self._ready()
        if self.mode == "disabled":
            return "W&B disabled"
        if self.mode == "offline":
            return f"W&B offline run in {self.run.dir.rsplit('/files', 1)[0]} (upload later: wandb sync)"
        return f"W&B run {self.run.url}"

    def log_train(self, step: int, values: dict[str, float]) -> None:
        point = {"train/step": step, **{f"train/{k}": v for k, v in values.items()}}
        if not self.started:
            self._queue.append(("log", point))
            return
        self._ready()
        self.run.log(point)

    def log_epoch(self, epoch: int, row: dict[str, Any]) -> None:
        self._ready()
        images = self._images(row)
        self.series_live.add_data(*self.series_row(row, images))
        scalars = {k: v for k, v in row.items() if "/" in k and isinstance(v, (int, float))}
        # lists (VAE: eval/kl_per_dim) as histograms: one key, however large zn is
        hists = {k: self.wandb.Histogram(v) for k, v in row.items() if "/" in k and isinstance(v, list) and v}
        named = {g.wandb_key: im for g, im in zip(self.grids, images)}
        self.run.log({"epoch": epoch, **scalars, **hists, **named, "epoch_series_live": self.series_live})

    def log_panels(self, epoch: int, panels: dict[str, list[Path]]) -> None:
        self._ready()
        for method, rows in panels.items():
            for pair, path in enumerate(rows):
                self.interp_live.add_data(epoch, self.cfg.zn, method, pair, self._image(path))
        self.run.log({"epoch": epoch, "interpolation_live": self.interp_live})

    def _images(self, row: dict[str, Any]) -> list[Any]:
        """The sample grid, then the trainer's extra grids, of a metrics.jsonl row."""
        caption = f"epoch {row['epoch']}"
        paths = [row[g.row_key] for g in self.grids]
        return [self._image(self.run_dir.path / p, caption) for p in paths]

    def _image(self, path, caption: str | None = None):
        """A PNG as a wandb.Image, made once per run: W&B copies and hashes the file when it is made."""
        key = str(path)
        if key not in self._media:
            self._media[key] = self.wandb.Image(key, caption=caption)
        return self._media[key]

    def series_row(self, row: dict[str, Any], images: list[Any]) -> list[Any]:
        """An epoch-series row from a metrics.jsonl row; None in epochs without evaluation."""
        values = [row.get(k) for k in self.series_keys] + [row.get(k) for k in SERIES_KEYS]
        return [row["epoch"], self.cfg.zn, self.cfg.lr, *images, *values]

    def log_final_tables(
        self, metrics: list[dict[str, Any]], panels: list[list[Any]], morphs: list[tuple[int, str, Path]] = ()
    ) -> None:
        """Immutable copies of every row, from the run directory's metrics.jsonl and panels (they
        survive resumes), and the final morphs (epoch, method, GIF) as videos under one key per method.
        Pictures this process already sent are reused, not read again."""
        self._ready()
        series_rows = [self.series_row(r, self._images(r)) for r in metrics]
        panel_rows = [r[:4] + [self._image(r[4])] for r in panels]
        videos = {  # a file path needs no moviepy: W&B copies the GIF as it is
            morph_key(method): self.wandb.Video(str(gif), caption=f"{method}, epoch {epoch}", format="gif")
            for epoch, method, gif in morphs
        }
        self.run.log(
            {
                "epoch_series": self.wandb.Table(columns=self.series_columns, data=series_rows),
                "interpolation": self.wandb.Table(columns=INTERP_COLUMNS, data=panel_rows),
                **videos,
            }
        )

    def summary(self, values: dict[str, Any]) -> None:
        if not self.started:
            self._queue.append(("summary", dict(values)))
            return
        self._ready()
        self.run.summary.update(values)

    def config(self, values: dict[str, Any]) -> None:
        """Add to the run's W&B config (e.g. the measurement stamp, known once the evaluator is built)."""
        if not self.started:
            self._queue.append(("config", dict(values)))
            return
        self._ready()
        self.run.config.update(values, allow_val_change=True)

    def finish(self, exit_code: int = 0) -> None:
        """End the W&B run (once: a second call does nothing)."""
        if self._finished:
            return
        self._ready()
        if exit_code == EXIT_PREEMPTED:  # W&B's way: a sweep's run marked preempting that ends non-zero is requeued
            self.run.mark_preempting()
        self.run.finish(exit_code=exit_code)
        self._finished = True


class NullTracker:
    """What every non-main rank gets: W&B hears from exactly one process."""

    location = "W&B: main process only"
    best = Best()

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _no_telemetry_to_the_failed_server() -> None:
    """W&B's SDK telemetry (OpenTelemetry, set up from WANDB_MODE=online) posts to the server at exit,
    and on a silent one waits its 10 s request timeout: a run that fell back to offline paid it after
    its last epoch. Turned off for this process only, through the SDK's own switch (private API:
    a W&B without it simply keeps its behaviour)."""
    try:
        from wandb.analytics.opentelemetry import opentelemetry_proxy

        opentelemetry_proxy.disable()
    except (ImportError, AttributeError):
        pass
