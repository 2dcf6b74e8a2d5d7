"""`genlat sweep FILE [--count N] [--workers K] [--dir DIR]`, `genlat sweep --status DIR`, `genlat sweep --sync DIR`."""

from __future__ import annotations

import argparse
import math
import os

from genlat.cli_args import DefaultsHelpFormatter, UserArgumentParser, user_path
from genlat.errors import EXIT_USAGE, ConfigError, entry_point

DESCRIPTION = """Run a W&B sweep file with no W&B server: W&B's own search code (the `sweeps` package) picks
the trials, each trial starts from the file's `command:` as `wandb agent` would start it, logs offline,
and is a normal run directory under DIR/runs/. Re-running the same command continues the sweep."""


def build_parser() -> argparse.ArgumentParser:
    p = UserArgumentParser(prog="genlat sweep", description=DESCRIPTION, allow_abbrev=False,
                formatter_class=DefaultsHelpFormatter)  # fmt: skip
    p.add_argument("file", nargs="?", type=user_path, help="the sweep file (the same one `wandb sweep` takes)")
    p.add_argument("--dir", type=user_path, help="the sweep's directory (default: runs/sweep-NAME, NAME from the file)")
    p.add_argument(
        "--count",
        type=int,
        help="trials in the sweep in all, over every run of the command (default: the grid, or no limit)",
    )
    p.add_argument(
        "--workers", type=int, default=1, help="trials at once (GPUs: one each, round robin; CPU: the cores split)"
    )
    p.add_argument("--retries", type=int, default=1, help="times a failed trial is tried again")
    p.add_argument("--grace", type=float, default=120.0, help="seconds a stopped trial gets to exit before SIGKILL")
    p.add_argument(
        "--status", metavar="DIR", type=user_path, help="print the trials of the sweep in DIR and the best one"
    )
    p.add_argument(
        "--sync",
        metavar="DIR",
        type=user_path,
        help="upload every trial's offline W&B run (wandb sync); needs the network",
    )
    p.add_argument("--debug", action="store_true", help="print tracebacks for user errors too")
    return p


@entry_point
def sweep_main(argv: list[str]) -> int:
    return _dispatch(build_parser().parse_args(argv))


def _dispatch(args) -> int:
    modes = [m for m in ("file", "status", "sync") if getattr(args, m)]
    if len(modes) != 1:
        raise ConfigError("give one of: a sweep FILE, --status DIR, or --sync DIR; see `genlat sweep --help`")
    if args.status:
        from genlat.sweep.status import print_status

        return print_status(args.status)
    if args.sync:
        from genlat.sweep.status import sync

        return sync(args.sync)
    for name, most in (("count", 10**6), ("workers", 1024)):  # a slot per worker: 10**9 of them is no sweep
        value = getattr(args, name)
        if value is not None and not 1 <= value <= most:
            raise ConfigError(f"--{name}={value}: must be a positive integer, at most {most:,}")
    if not 0 <= args.retries <= 1000:
        raise ConfigError(f"--retries={args.retries}: must be from 0 to 1000")
    if not math.isfinite(args.grace) or not 0 <= args.grace <= 86400:
        raise ConfigError(f"--grace={args.grace:g}: must be a finite number of seconds from 0 to 86400")
    return run(args.file, args.dir, args.count, args.workers, args.retries, args.grace)


def run(file: str, directory: str | None, count: int | None, workers: int, retries: int, grace: float) -> int:
    from genlat.sweep.runner import Runner
    from genlat.sweep.spec import load_spec
    from genlat.sweep.state import SweepState
    from genlat.sweep.status import closing_lines

    spec = load_spec(file)  # every problem of the file, before DIR is touched
    state = SweepState(directory or os.path.join("runs", f"sweep-{spec.name}"))
    state.create_or_check(spec)
    runner = Runner(spec, state, workers=workers, count=count, retries=retries, grace_s=grace)
    code = runner.run()
    for line in closing_lines(state.read(), state, interrupted=code != 0):
        runner.display.console.print(line, highlight=False, markup=False)
    return code


__all__ = ["sweep_main", "EXIT_USAGE"]
