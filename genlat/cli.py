"""`genlat <command>`: the command-line entry, and train's flags (TrainConfig's fields, in groups).
User errors become one line and an exit code."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from genlat.cli_args import DefaultsHelpFormatter, OnOff, UserArgumentParser, joined_negative_values, user_path
from genlat.config import SWITCHES, TrainConfig
from genlat.errors import EXIT_USAGE, entry_point

USAGE = """usage: genlat <command> [options]   (genlat --version)

commands:
  train     train one run (the same flags as train.py; see `genlat train --help`)
  eval      evaluate a run directory's newest checkpoint: genlat eval RUN_DIR [--samples N]
  sweep     run a W&B sweep file with no server: genlat sweep FILE [--workers K] [--count N] [--dir DIR]
  report    answer Q1-Q3 from a sweep's runs: genlat report SWEEP_DIR [--out DIR] [--runs RUN_DIR ...]
            [--wandb E/P[/ID] [--group G]] [--publish]
"""

# `train --help` lists the flags in these groups, in this order; each TrainConfig field is in exactly one.
FLAG_GROUPS = {
    "model": ("the networks (genlat.models)", "model zn ngf ndf beta"),
    "data": ("the images trained on (genlat.data)", "dataset data_dir image_size channels epoch_size num_workers"),
    "training": (
        "the optimiser, the GAN's stabilisers, the hardware, and when to give up",
        "epochs batch_size lr beta1 seed instance_noise instance_noise_images label_smoothing "
        "mixed_precision channels_last compile cpu collapse_spread collapse_epochs",
    ),
    "evaluation": (
        "each epoch's sample grid, the interpolation panels and the metrics (genlat.metrics)",
        "eval_every eval_full_every eval_samples eval_feature_images eval_inception "
        "n_samples grid_nrow interp_pairs interp_steps interp_methods interp_every",
    ),
    "tracking": ("Weights & Biases", "wandb_project wandb_entity wandb_group log_every"),
    "run": ("the run folder OUT/NAME and its checkpoints", "out name resume keep_checkpoints debug"),
}


def build_parser(prog: str = "train.py") -> argparse.ArgumentParser:
    parser = UserArgumentParser(
        prog=prog,
        usage="%(prog)s [options]",
        description="Train one genlat run: a generator (--model) at latent size --zn, tracked in W&B.",
        epilog="On/off flags also take a value, as `wandb agent` passes them: --resume=true, --resume=False.",
        allow_abbrev=False,
        formatter_class=DefaultsHelpFormatter,
    )
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    grouped = [name for _, names in FLAG_GROUPS.values() for name in names.split()]
    assert sorted(grouped) == sorted(fields), "every TrainConfig field belongs to exactly one of FLAG_GROUPS"
    for title, (description, names) in FLAG_GROUPS.items():
        group = parser.add_argument_group(title, description)
        for name in names.split():
            _add_flag(group, fields[name])
    return parser


def _add_flag(group, f: dataclasses.Field) -> None:
    """`--NAME VALUE`, its choices shown as `{a,b}`; a bool or auto/true/false field as an on/off flag.
    Values stay text: TrainConfig.from_dict converts and checks them (one message for flags and sweeps)."""
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    choices, help = f.metadata["choices"], f.metadata["help"]
    if kind == "bool" or choices == SWITCHES:
        group.add_argument(f"--{f.name}", action=OnOff, default=f.default, help=help, values=choices)
    else:
        metavar = "{" + ",".join(map(str, choices)) + "}" if choices else kind.upper()
        group.add_argument(f"--{f.name}", default=f.default, metavar=metavar, help=help)


def parse_args(argv: list[str] | None, prog: str = "train.py") -> TrainConfig:
    parser = build_parser(prog)
    args = parser.parse_args(joined_negative_values(sys.argv[1:] if argv is None else argv, parser))
    return TrainConfig.from_dict(vars(args))


@entry_point
def train_main(argv: list[str], prog: str = "train.py") -> int:
    """`python train.py …`, `accelerate launch train.py …` and `genlat train …` all land here."""
    from genlat.interrupts import Deferred, take_back_sigint
    from genlat.wandb_access import resolve_mode

    take_back_sigint()  # started in the background: SIGINT arrives ignored, and a W&B stop with it
    cfg = parse_args(argv, prog=prog)
    resolve_mode()  # a misspelt WANDB_MODE is refused now, not after the run folder exists
    with Deferred() as start:  # a Ctrl-C now is acted on after the imports, never inside one
        from genlat.run import Run  # the heavy imports (torch, wandb) only after the flags are fine

        run = Run(cfg)
    if start.raised:
        raise KeyboardInterrupt  # nothing created yet: exit 75, "interrupted"
    return run.train()


@entry_point
def eval_main(argv: list[str]) -> int:
    """`genlat eval RUN_DIR [--samples N]`: print the eval/* numbers of the newest checkpoint."""
    from genlat.errors import ConfigError

    parser = UserArgumentParser(
        prog="genlat eval",
        formatter_class=DefaultsHelpFormatter,
        description="Evaluate a run directory's newest checkpoint (writes nothing).",
    )
    parser.add_argument("run_dir", type=user_path, help="a run directory (OUT/NAME)")
    parser.add_argument(
        "--samples", type=int, default=0, metavar="N", help="images per evaluation (default: the run's eval_samples)"
    )
    parser.add_argument("--debug", action="store_true", help="print tracebacks for user errors too")
    args = parser.parse_args(argv)
    if args.samples and args.samples < 16:
        raise ConfigError(f"--samples={args.samples}: must be at least 16")
    from genlat.metrics.standalone import evaluate_run, print_table

    epoch, values, summary = evaluate_run(args.run_dir, args.samples, log=lambda m: print(m, file=sys.stderr))
    print_table(args.run_dir, epoch, values, summary)
    return 0


def sweep_main(argv: list[str]) -> int:
    from genlat.sweep.cli import sweep_main as main  # imports nothing heavy until a sweep runs

    return main(argv)


def report_main(argv: list[str]) -> int:
    from analysis.report import main as main  # matplotlib only when a report is made

    return main(argv)


COMMANDS = {
    "train": lambda argv: train_main(argv, prog="genlat train"),
    "eval": eval_main,
    "sweep": sweep_main,
    "report": report_main,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if argv else EXIT_USAGE
    command, rest = argv[0], argv[1:]
    if command == "--version":
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"genlat {version('genlat')}")
        except PackageNotFoundError:  # a source tree that was never installed
            print("genlat (not installed: run from a source tree)")
        return 0
    if command not in COMMANDS:
        print(f"genlat: error: unknown command {command!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return EXIT_USAGE
    return COMMANDS[command](rest)
