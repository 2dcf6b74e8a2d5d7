"""`genlat <command>`: the command-line entry. User errors become one line and an exit code."""

from __future__ import annotations

import sys

from genlat.errors import EXIT_USAGE, entry_point

USAGE = """usage: genlat <command> [options]   (genlat --version)

commands:
  train     train one run (the same flags as train.py; see `genlat train --help`)
  eval      evaluate a run directory's newest checkpoint: genlat eval RUN_DIR [--samples N]
  sweep     run a W&B sweep file with no server: genlat sweep FILE [--workers K] [--count N] [--dir DIR]
  report    answer Q1-Q3 from a sweep's runs: genlat report SWEEP_DIR [--out DIR] [--runs RUN_DIR ...] [--wandb E/P[/ID] [--group G]] [--publish]
"""


@entry_point
def train_main(argv: list[str], prog: str = "train.py") -> int:
    """`python train.py …`, `accelerate launch train.py …` and `genlat train …` all land here."""
    from genlat.config import parse_args
    from genlat.wandb_access import resolve_mode

    from genlat.interrupts import Deferred

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
    from genlat.config import UserArgumentParser, user_path
    from genlat.errors import ConfigError

    parser = UserArgumentParser(prog="genlat eval", description="Evaluate a run directory's newest checkpoint (writes nothing).")
    parser.add_argument("run_dir", type=user_path, help="a run directory (OUT/NAME)")
    parser.add_argument("--samples", type=int, default=0, help="images per evaluation (default: the run's eval_samples)")
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
    "train": lambda argv: train_main(argv, prog="genlat train"), "eval": eval_main, "sweep": sweep_main, "report": report_main,
}  # fmt: skip


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
