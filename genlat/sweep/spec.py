"""Load a sweep file and refuse a bad one before any trial starts, with one line per problem.

Three layers of checks, in the order a user would fix them: the YAML itself; W&B's own schema and
search code (the `sweeps` package: what `wandb sweep` would refuse); then genlat's own rules (every
parameter is a flag of train.py, every value one train.py accepts, the program exists).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from genlat.config import TrainConfig
from genlat.errors import ConfigError
from genlat.keys import Best
from genlat.records import Damaged, YamlRefused, parse_yaml, read_regular
from genlat.sweep.state import safe_name

# Flags `genlat sweep` sets for every trial; a sweep that sweeps them would put every trial in one place.
PLACEMENT = ("out", "name", "resume")
SPEC_MAX_BYTES = 2**20  # a sweep file is a few KiB
ARGS_MACROS = ("${args}", "${args_no_boolean_flags}", "${args_json}", "${args_no_hyphens}", "${args_no_equals}")


def import_sweeps():
    """The `sweeps` package, imported quietly (its pydantic model warns about a renamed option)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sweeps
    return sweeps


class SweepFileError(ConfigError):
    """A sweep file with problems; each is one line, printed as `FILE: problem`."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.path, self.problems = str(path), problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


@dataclass
class SweepSpec:
    path: Path
    text: str  # the file as written, copied into the sweep directory
    config: dict[str, Any]  # what `wandb sweep` would upload

    @property
    def name(self) -> str:
        """The sweep's name as a folder name (runs/sweep-NAME) and W&B group: one safe path component."""
        return safe_name(self.config.get("name") or self.path.stem)

    @property
    def method(self) -> str:
        return self.config["method"]

    @property
    def metric(self) -> str | None:
        return (self.config.get("metric") or {}).get("name")

    @property
    def goal(self) -> str:
        return (self.config.get("metric") or {}).get("goal", "minimize")

    @property
    def best(self) -> Best:
        """What the trials are ranked by: the file's metric, else the study's (genlat.keys.Best)."""
        return Best.of(self.config.get("metric"))

    @property
    def program(self) -> str | None:
        return self.config.get("program")

    @property
    def command(self) -> list[str] | None:
        return self.config.get("command")

    @property
    def run_cap(self) -> int | None:
        return self.config.get("run_cap")

    @property
    def early_terminate(self) -> bool:
        return bool(self.config.get("early_terminate"))

    @property
    def varying(self) -> list[str]:
        """Parameters that differ between trials (the ones worth showing in names and tables)."""
        params = self.config["parameters"]
        return [k for k, p in params.items() if "value" not in p and not ("values" in p and len(p["values"]) < 2)]

    @property
    def fingerprint(self) -> str:
        """Equal for files that describe the same sweep (comments and key order do not count)."""
        canonical = json.dumps(self.config, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def sweep_config(self):
        """The config as the `sweeps` package wants it: validated, defaults filled."""
        return import_sweeps().SweepConfig(self.config)


def load_spec(path: str | Path, check_program: bool = True) -> SweepSpec:
    path = Path(path)
    try:  # a regular file only (a FIFO would block the read), of a sweep file's size
        data = read_regular(path, SPEC_MAX_BYTES)
        if data is None:
            raise Damaged(path, "no such file")
        text = data.decode("utf-8")
    except Damaged as e:
        raise SweepFileError(path, [f"cannot read the sweep file: {e.why}"]) from None
    except UnicodeDecodeError:
        raise SweepFileError(path, ["cannot read the sweep file: not UTF-8 text"]) from None
    try:
        config = parse_yaml(text)
    except YamlRefused as e:
        raise SweepFileError(path, [str(e)]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(str(x) for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
        raise SweepFileError(path, [f"not valid YAML: {where}{what}"]) from None
    if not isinstance(config, dict):
        raise SweepFileError(path, ["a sweep file is a YAML mapping (method:, parameters:, ...)"])
    problems = _schema_problems(config)
    if not problems:
        problems = _search_problems(config)
    problems += _genlat_problems(config, check_program)
    if problems:
        raise SweepFileError(path, list(dict.fromkeys(problems)))  # the schema repeats some messages
    return SweepSpec(path=path, text=text, config=config)


def _schema_problems(config: dict) -> list[str]:
    """W&B's own schema, as `wandb sweep` checks it."""
    sweeps = import_sweeps()
    try:
        problems = sweeps.schema_violations_from_proposed_config(config)
    except ValueError as e:
        return [str(e)]
    problems = [line for p in problems for line in str(p).splitlines() if line.strip()]
    if config.get("method") == "custom":
        problems.append("method: custom needs a W&B scheduler; genlat sweep runs grid, random and bayes")
    return problems


def _search_problems(config: dict) -> list[str]:
    """What the search code itself refuses (grid with a continuous range, bayes with no metric, ...)."""
    sweeps = import_sweeps()
    problems = []
    try:
        sweeps.next_runs(sweeps.SweepConfig(config), [], n=1)
    except (ValueError, KeyError, TypeError) as e:
        problems.append(f"method {config.get('method')}: {e}")
    if config.get("early_terminate"):
        try:
            sweeps.stop_runs(sweeps.SweepConfig(config), [])
        except (ValueError, KeyError, TypeError) as e:
            problems.append(f"early_terminate: {e}")
    return problems


def _genlat_problems(config: dict, check_program: bool) -> list[str]:
    problems = []
    flags = {f.name for f in dataclasses.fields(TrainConfig)}
    parameters = config.get("parameters") if isinstance(config.get("parameters"), dict) else {}
    # Values are checked with the sweep's constants around them; a clash with another swept parameter
    # (train.py checks some flags together) only shows in the trial that has both, as a failed trial.
    fixed = {k: p["value"] for k, p in parameters.items() if isinstance(p, dict) and "value" in p and k in flags}
    try:
        TrainConfig.from_dict(fixed)
        fixed_problem = ""
    except ConfigError as e:
        fixed_problem, fixed = str(e), {}
    for name, param in parameters.items():
        if not isinstance(param, dict):
            continue  # the schema has said so
        if "parameters" in param:
            problems.append(f"parameters.{name}: nested parameters are not flags of train.py")
        elif name not in flags:
            problems.append(f"parameters.{name}: train.py has no flag --{name} (see `python train.py --help`)")
        elif name in PLACEMENT:
            problems.append(f"parameters.{name}: set by genlat sweep for each trial; remove it from the sweep")
        else:
            for value in _values_to_check(param):
                try:
                    TrainConfig.from_dict({**fixed, name: value})
                except ConfigError as e:
                    if str(e).startswith(f"--{name}="):
                        problems.append(f"parameters.{name}: {e}")
    if fixed_problem and not any(p.endswith(fixed_problem) for p in problems):  # a clash of constants, said once
        problems.insert(0, f"parameters: {fixed_problem}")
    command = config.get("command")
    if isinstance(command, list) and not any(str(c) in ARGS_MACROS for c in command):
        problems.append(
            "command: has no ${args} (or ${args_no_boolean_flags}) item, so train.py would never see the parameters"
        )
    uses_program = not isinstance(command, list) or "${program}" in [str(c) for c in command]
    program = config.get("program")
    if uses_program and not program:
        problems.append("program: missing (the script the agent starts, e.g. `program: train.py`)")
    elif uses_program and check_program and isinstance(program, str) and not Path(program).is_file():
        problems.append(
            f"program: {program} is not a file in {Path.cwd()} (wandb agent resolves it from the folder it runs in; "
            "run genlat sweep from there)"
        )
    return problems


def _values_to_check(param: dict) -> list[Any]:
    """The values a parameter can take that train.py could refuse: its list, or the ends of its range."""
    if "value" in param:
        return [param["value"]]
    if "values" in param:
        return list(param["values"]) if isinstance(param["values"], list) else []  # else the schema has said so
    if isinstance(param.get("min"), (int, float)) and isinstance(param.get("max"), (int, float)):
        dist = param.get("distribution", "")
        if dist in ("log_uniform", "q_log_uniform"):  # min/max are natural logs here
            return [math.exp(param["min"]), math.exp(param["max"])]
        if dist in ("normal", "log_normal", "q_normal", "q_log_normal", "inv_log_uniform", "inv_log_uniform_values"):
            return []
        return [param["min"], param["max"]]
    return []
