"""Exit codes and the user-facing errors behind them.

A sweep runner reads the exit code to decide what happened to a trial, so each kind of outcome
has its own code. User errors carry a one-line message; the CLI prints it without a traceback.
"""

EXIT_OK = 0
EXIT_FAILED = 1  # an unexpected error (a bug): printed with its traceback
EXIT_USAGE = 2  # bad flag or value: nothing was trained
EXIT_DATA = 3  # dataset missing, empty or unreadable: nothing was trained
EXIT_OUTPUT = 4  # the output directory cannot be written, or holds an incompatible run
EXIT_DIVERGED = 5  # non-finite losses, or total mode collapse; the run is recorded as diverged
EXIT_UNAVAILABLE = 69  # W&B cannot be reached or refused: nothing was uploaded or read (EX_UNAVAILABLE)
EXIT_PREEMPTED = 75  # stopped by SIGTERM/SIGINT; resumable from the last checkpoint (EX_TEMPFAIL)


class GenlatError(Exception):
    """An error the user can fix; its message is one line saying what is wrong and what to do."""

    exit_code = EXIT_FAILED


class ConfigError(GenlatError):
    exit_code = EXIT_USAGE


class DataError(GenlatError):
    exit_code = EXIT_DATA


class OutputError(GenlatError):
    exit_code = EXIT_OUTPUT


class OfflineError(GenlatError):
    """W&B is needed (sync, publish, read runs) but there is no login or no server."""

    exit_code = EXIT_UNAVAILABLE
