"""The argparse pieces every genlat command shares (train, eval, sweep, report, the benchmark): a parser
whose errors are one line and exit 2, help that shows each default once, on/off flags that also take
a value, and paths as the user meant them. No genlat imports beyond the errors: anything may use it."""

from __future__ import annotations

import argparse
import os

from genlat.errors import ConfigError


def user_path(text: str) -> str:
    """A path as the user meant it: `~` and `~user` expanded, the same way for every path flag
    (folder:~/x too, in genlat.data)."""
    return os.path.expanduser(text) if isinstance(text, str) else text


class UserArgumentParser(argparse.ArgumentParser):
    """argparse that raises ConfigError (one line, exit 2) instead of printing usage and exiting."""

    def error(self, message):
        raise ConfigError(f"{message}; see {self.prog} --help")


class OnOff(argparse.Action):
    """An on/off flag: `--resume` and `--no-resume`, and also a value as `wandb agent` passes one
    (`--resume=True`, `--resume=false`, `--resume False`). The value is kept as text for the config's
    own check, so `--resume=maybe` is refused there with the config's message. `values`, when given,
    are the words beside on and off that the flag takes (`--channels_last=auto`), shown in the help."""

    def __init__(self, option_strings, dest, default=None, help=None, values=()):
        self.words = tuple(values)
        negative = [f"--no-{s[2:]}" for s in option_strings if s.startswith("--")]
        super().__init__([*option_strings, *negative], dest, nargs="?", default=default, help=help)

    def __call__(self, parser, namespace, value, option_string=None):
        if option_string == self.option_strings[1]:
            if value is not None:
                parser.error(f"{option_string} takes no value (use {option_string.replace('--no-', '--', 1)}=false)")
            value = "false"
        setattr(namespace, self.dest, "true" if value is None else value)


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """A flag's help, then "(default: X)", unless there is nothing to show (None, '', an off switch) or
    the help already says its default in its own words, "(default: ...)". On/off flags read as
    `--resume, --no-resume` (with their other words: `--channels_last[={auto,true,false}], --no-channels_last`)."""

    def _get_help_string(self, action):
        nothing = action.default is None or action.default is False or action.default == ""
        if nothing or "(default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)

    def _format_action_invocation(self, action):
        if not isinstance(action, OnOff):
            return super()._format_action_invocation(action)
        on, off = action.option_strings
        return f"{on}[={{{','.join(action.words)}}}], {off}" if action.words else f"{on}, {off}"


def joined_negative_values(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """`--lr -1e-4` as `--lr=-1e-4`: argparse takes "-1e-4" for a flag (it only knows -1 and -.5 as
    numbers) and says "expected one argument"; joined, the value reaches its check and its message."""
    takes_value = {a for act in parser._actions if act.nargs is None and act.option_strings for a in act.option_strings}
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in takes_value and arg.startswith("-") and _is_number(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
