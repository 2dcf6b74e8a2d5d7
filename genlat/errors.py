"""Exit codes and the user-facing errors behind them.

A sweep runner reads the exit code to decide what happened to a trial, so each kind of outcome
has its own code. User errors carry a one-line message; `entry_point` prints it without a traceback.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

EXIT_OK = 0
EXIT_FAILED = 1  # an unexpected error (a bug): printed with its traceback
EXIT_USAGE = 2  # bad flag or value: nothing was trained
EXIT_DATA = 3  # dataset missing, empty or unreadable: nothing was trained
EXIT_OUTPUT = 4  # the output directory cannot be written, or holds an incompatible run
EXIT_DIVERGED = 5  # non-finite losses, or total mode collapse; the run is recorded as diverged
EXIT_UNAVAILABLE = 69  # W&B cannot be reached or refused: nothing was uploaded or read (EX_UNAVAILABLE)
EXIT_PREEMPTED = 75  # stopped by SIGTERM/SIGINT; resumable from the last checkpoint (EX_TEMPFAIL)


MAX_LINE = 600  # characters of one `genlat: error:` line; a server's error page can be kilobytes


class GenlatError(Exception):
    """An error the user can fix; its message is one line saying what is wrong and what to do. One
    that lists several problems (a sweep file's) sets `problems` and is printed one line per problem."""

    exit_code = EXIT_FAILED


def error_lines(e: GenlatError) -> list[str]:
    """What `genlat: error:` prints: the message on one line (text quoted from W&B, a server or a
    library often spans lines), or one line per problem when the error lists them."""
    parts = str(e).splitlines() if getattr(e, "problems", None) else [str(e)]
    lines = [" ".join(p.split()) for p in parts]
    return [line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…" for line in lines if line] or [""]


class ConfigError(GenlatError):
    exit_code = EXIT_USAGE


class DataError(GenlatError):
    exit_code = EXIT_DATA


class OutputError(GenlatError):
    exit_code = EXIT_OUTPUT


class OfflineError(GenlatError):
    """W&B is needed (sync, publish, read runs) but there is no login or no server."""

    exit_code = EXIT_UNAVAILABLE


def wants_debug(argv: list[str]) -> bool:
    """`--debug`, `--debug=true` or `--debug true` (wandb agent renders booleans as values)."""
    for i, arg in enumerate(argv):
        if arg == "--debug":
            return i + 1 == len(argv) or argv[i + 1].lower() not in ("0", "false", "no", "off")
        if arg.startswith("--debug="):
            return arg.split("=", 1)[1].lower() in ("1", "true", "yes", "on")
    return False


def entry_point(main: Callable[..., int]) -> Callable[..., int]:
    """Wraps a command's `main(argv, ...)`: argv defaults to sys.argv[1:]; a GenlatError becomes
    `genlat: error: ...` on stderr and its exit code, or its traceback when argv asks for --debug."""

    @functools.wraps(main)
    def run(argv: list[str] | None = None, *args, **kwargs) -> int:
        argv = sys.argv[1:] if argv is None else list(argv)
        try:
            return main(argv, *args, **kwargs)
        except GenlatError as e:
            if wants_debug(argv):
                raise
            # Under `accelerate launch` every rank hits the same input error; one copy is enough.
            if os.environ.get("RANK", "0") == "0":
                for line in error_lines(e):
                    print(f"genlat: error: {line}", file=sys.stderr)
            return e.exit_code
        except KeyboardInterrupt:  # Ctrl-C before a run installs its own handler (imports, W&B's start)
            if wants_debug(argv):
                raise
            if os.environ.get("RANK", "0") == "0":
                print(
                    "genlat: interrupted; re-run the same command (a run resumes from its last checkpoint)",
                    file=sys.stderr,
                )
            return EXIT_PREEMPTED

    return run
