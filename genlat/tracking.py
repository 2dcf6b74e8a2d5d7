"""Everything a run says to W&B goes through here; only the main process ever builds a `Tracker`.

Keys are stable so the W&B UI can merge them across the runs of a sweep:
  train/<stat>  (GAN: loss_d, loss_g, d_real, d_fake)        every `log_every` steps
  epoch/<stat>, epoch/images_per_s, ...                       once per epoch (x-axis: `epoch`);
                                                               metrics.jsonl uses the same keys
  eval/fd, eval/kid, eval/precision, eval/recall, eval/ppl, ... the epoch's evaluation (genlat.metrics);
                                                               eval/feature_space (a string) in the summary
  samples                                                      the epoch's grid (an image)
  epoch_series / interpolation                                 tables, an immutable copy at the end
  epoch_series_live / interpolation_live                       the same rows, INCREMENTAL, as they come
The final tables are rebuilt from the run directory, so they hold every epoch even after a resume.
"""

from __future__ import annotations

import netrc
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from genlat.metrics.evaluate import MAIN_KEYS
from genlat.rundir import RunDir

SERIES_HEAD = ["epoch", "zn", "lr", "grid"]  # then the trainer's SERIES stats, then MAIN_KEYS
INTERP_COLUMNS = ["epoch", "zn", "method", "pair", "panel"]


def has_wandb_login() -> bool:
    """True when an API key is at hand (env or netrc). Checked locally: never touches the network."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlsplit(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname or ""
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    try:
        return bool(netrc.netrc(path).authenticators(host))
    except (OSError, netrc.NetrcParseError):
        return False


def resolve_mode() -> str:
    """WANDB_MODE wins; otherwise online when logged in, offline when not (never wait on a server)."""
    mode = os.environ.get("WANDB_MODE", "").strip().lower()
    if mode == "dryrun":
        return "offline"
    if mode in ("online", "offline", "disabled"):
        return mode
    if os.environ.get("WANDB_DISABLED", "").lower() in ("1", "true", "yes"):
        return "disabled"
    return "online" if has_wandb_login() else "offline"


class Tracker:
    def __init__(self, cfg, run: RunDir, run_id: str, config_record: dict[str, Any], series_stats: tuple[str, ...]):
        import wandb

        self.wandb = wandb
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
            config=config_record,
        )
        try:
            self.run = wandb.init(mode=self.mode, settings=self._settings(), **kwargs)
        except Exception as e:  # logged in, but the server is out of reach: keep the run, log offline
            if self.mode != "online":
                raise
            print(f"genlat: warning: W&B online failed ({type(e).__name__}); logging offline, "
                  f"upload later with `wandb sync {run.wandb}`", file=sys.stderr)
            self.mode = "offline"
            self.run = wandb.init(mode="offline", settings=self._settings(), **kwargs)
        # Custom x-axes instead of W&B's own step, which cannot go back after a resume.
        self.run.define_metric("train/step")
        self.run.define_metric("train/*", step_metric="train/step")
        self.run.define_metric("epoch")
        for prefix in ("epoch/*", "eval/*", "samples", "epoch_series_live", "interpolation_live"):
            self.run.define_metric(prefix, step_metric="epoch")
        self.series_stats = tuple(series_stats)
        self.series_columns = SERIES_HEAD + list(self.series_stats) + list(MAIN_KEYS)
        self.series_live = wandb.Table(columns=self.series_columns, log_mode="INCREMENTAL")
        self.interp_live = wandb.Table(columns=INTERP_COLUMNS, log_mode="INCREMENTAL")

    def _settings(self):
        return self.wandb.Settings(init_timeout=30, silent=True, console="off")

    @property
    def location(self) -> str:
        if self.mode == "disabled":
            return "W&B disabled"
        if self.mode == "offline":
            return f"W&B offline run in {self.run.dir.rsplit('/files', 1)[0]} (upload later: wandb sync)"
        return f"W&B run {self.run.url}"

    def log_train(self, step: int, values: dict[str, float]) -> None:
        self.run.log({"train/step": step, **{f"train/{k}": v for k, v in values.items()}})

    def log_epoch(self, epoch: int, row: dict[str, Any], grid: Path) -> None:
        image = self.wandb.Image(str(grid), caption=f"epoch {epoch}")
        self.series_live.add_data(*self._series_row(row, image))
        scalars = {k: v for k, v in row.items() if "/" in k and isinstance(v, (int, float))}
        self.run.log({"epoch": epoch, **scalars, "samples": image, "epoch_series_live": self.series_live})

    def log_panels(self, epoch: int, panels: dict[str, list[Path]]) -> None:
        for method, rows in panels.items():
            for pair, path in enumerate(rows):
                self.interp_live.add_data(epoch, self.cfg.zn, method, pair, self.wandb.Image(str(path)))
        self.run.log({"epoch": epoch, "interpolation_live": self.interp_live})

    def _series_row(self, row: dict[str, Any], grid_image) -> list[Any]:
        """An epoch-series row from a metrics.jsonl row; None in epochs without evaluation."""
        stats = [row.get(f"epoch/{name}") for name in self.series_stats]
        return [row["epoch"], self.cfg.zn, self.cfg.lr, grid_image, *stats, *(row.get(f"eval/{k}") for k in MAIN_KEYS)]

    def log_final_tables(self, metrics: list[dict[str, Any]], panels: list[list[Any]]) -> None:
        """Immutable copies of every row, from the run directory's metrics.jsonl and panels (they
        survive resumes)."""
        image = self.wandb.Image
        series_rows = [self._series_row(r, image(str(self.run_dir.path / r["sample_grid"]))) for r in metrics]
        panel_rows = [r[:4] + [image(str(r[4]))] for r in panels]
        self.run.log(
            {
                "epoch_series": self.wandb.Table(columns=self.series_columns, data=series_rows),
                "interpolation": self.wandb.Table(columns=INTERP_COLUMNS, data=panel_rows),
            }
        )

    def summary(self, values: dict[str, Any]) -> None:
        self.run.summary.update(values)

    def finish(self, exit_code: int = 0) -> None:
        self.run.finish(exit_code=exit_code)


class NullTracker:
    """What every non-main rank gets: W&B hears from exactly one process."""

    location = "W&B: main process only"

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
