"""`genlat eval RUN_DIR`: evaluate a run directory's newest loadable checkpoint; writes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import torch

from genlat.checkpoint import load_latest
from genlat.config import TrainConfig, check_fits_in_memory
from genlat.errors import OutputError
from genlat.inference import eval_batches
from genlat.records import Damaged
from genlat.rundir import RunDir

DIGITS = 4  # printed significant digits; fixed nets and float64 statistics keep them stable (issue 13)


def load_run_config(run: RunDir) -> tuple[TrainConfig, dict]:
    """The TrainConfig a run was trained with (config.json also holds extra keys, e.g. g_params). A
    value it refuses is config.json's damage (exit 4), named as such: the user typed no flag."""
    if not run.path.is_dir():
        raise OutputError(f"{run.path}: no such run directory")
    try:
        record = run.read_config()
    except Damaged as e:
        raise OutputError(f"{run.config} is damaged ({e.why}): is this a genlat run directory?") from None
    if record is None:
        raise OutputError(f"{run.path} is not a genlat run directory (no config.json)")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig.from_dict({k: v for k, v in record.items() if k in fields}, source=str(run.config)), record


def evaluate_run(path: str | Path, samples: int = 0, log: Callable[[str], None] = print) -> tuple[int, dict, dict]:
    """(epoch of the checkpoint, the eval/* values, the feature space's summary)."""
    from genlat.data import build_source, check_evaluable
    from genlat.metrics.evaluate import Evaluator
    from genlat.trainers import build_models, checkpoint_shapes, decoder_of

    run = RunDir(path)
    cfg, record = load_run_config(run)
    default = TrainConfig.__dataclass_fields__["eval_samples"].default
    n = samples or cfg.eval_samples or default
    check_fits_in_memory(cfg, eval_samples=n)  # --samples too: refused with the GiB it needs, before any work
    source = build_source(cfg)
    check_evaluable(source)
    channels = record.get("image_channels") or source.channels
    state, skipped = load_latest(run.checkpoints, checkpoint_shapes(cfg, channels))
    for note in skipped:
        log(f"[warning] skipped an unreadable checkpoint: {note}")
    if state is None:
        raise OutputError(f"{run.path} has no loadable checkpoint in checkpoints/: train at least one epoch first")
    nets = build_models(cfg, channels)
    try:
        for key, net in nets.items():
            net.load_state_dict(state[key])
    except (KeyError, RuntimeError, TypeError, ValueError) as e:
        raise OutputError(
            f"the checkpoint in {run.checkpoints} does not fit config.json ({type(e).__name__})"
        ) from None
    device = torch.device("cuda" if torch.cuda.is_available() and not cfg.cpu else "cpu")
    g = decoder_of(cfg, nets).to(device).eval()

    def generate(z: torch.Tensor, batch: int = 256) -> torch.Tensor:
        return eval_batches(g, z, batch, device)

    evaluator = Evaluator(cfg, source, device, samples=n, log=log)
    return state["epoch"], evaluator(generate, g), evaluator.summary()


def print_table(run_path, epoch: int, values: dict, summary: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=escape(f"{run_path}  (checkpoint after epoch {epoch})"),
        title_justify="left",
        caption=f"{DIGITS} significant digits: the same for this checkpoint in any process and thread count",
        caption_justify="left",
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in {**summary, **values}.items():
        table.add_row(key, escape(f"{value:.{DIGITS}g}" if isinstance(value, float) else str(value)))
    Console().print(table)
