"""The trial's command line, rendered from the sweep's `command:` exactly as `wandb agent` renders it.

Mirrors wandb's agent (wandb/wandb_agent.py `Agent._command_run` and
wandb/sdk/launch/sweeps/utils.py `create_sweep_command_args`); tests/test_sweep_agent.py checks the
two agree. An item that is exactly a macro expands to a list; `${envvar:NAME}` is replaced inside
items; anything else is kept as written.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

DEFAULT_COMMAND = ["${env}", "${interpreter}", "${program}", "${args}"]
_ENVVAR = re.compile(r"\$\{envvar\:([A-Z0-9_]*)\}")


def agent_args(params: dict[str, Any]) -> dict[str, list[str]]:
    """The forms the agent renders parameters in (`--zn=100`, `zn=100`, a JSON object, ...)."""
    flags, no_hyphens, no_booleans, no_equals = [], [], [], []
    for name, value in params.items():
        flags.append(f"--{name}={value}")
        no_hyphens.append(f"{name}={value}")
        no_equals += [f"--{name}", str(value)]
        if isinstance(value, bool):
            if value:  # a false boolean is left out, a true one is a bare flag
                no_booleans.append(f"--{name}")
        else:
            no_booleans.append(f"--{name}={value}")
    return {
        "args": flags,
        "args_no_equals": no_equals,
        "args_no_hyphens": no_hyphens,
        "args_no_boolean_flags": no_booleans,
        "args_json": [json.dumps(params)],
        "args_append_hydra": ["+" + f for f in no_hyphens],
        "args_override_hydra": ["++" + f for f in no_hyphens],
    }


def render(command: list[Any] | None, program: str | None, params: dict[str, Any], env=None) -> list[str]:
    """The argv the agent would start for a run with these parameters."""
    env = os.environ if env is None else env
    macros = {
        **agent_args(params),
        "interpreter": ["python"],  # what the agent writes; PATH (see runner_path) decides which python
        "program": [program] if program else [],
        "env": ["/usr/bin/env"] if os.name != "nt" else [],
    }
    argv = []
    for item in command or DEFAULT_COMMAND:
        item = _ENVVAR.sub(lambda m: env.get(m.group(1), m.group(1)), str(item))
        if item.startswith("${") and item.endswith("}"):
            argv += macros.get(item[2:-1]) or []
        else:
            argv.append(item)
    return argv


def runner_path(path: str | None = None) -> str:
    """PATH with this interpreter's folder first: `python` and `accelerate` in a trial's command are the
    ones of the environment genlat runs in, as if it were activated (the agent relies on an activated one)."""
    bin_dir = str(Path(sys.executable).parent)
    rest = [
        p for p in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep) if p and p != bin_dir
    ]
    return os.pathsep.join([bin_dir, *rest])
