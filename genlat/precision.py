"""The numerics a run trains with: `--mixed_precision auto` and `--channels_last auto` resolved for
the device, once, before the Accelerator exists.

Precision, first rule that applies:
  1. `--mixed_precision no|bf16|fp16` given to train.py: that.
  2. Accelerate's own setting (`accelerate launch --mixed_precision X` or its config file, which the
     launcher passes on as ACCELERATE_MIXED_PRECISION): that, as in any Accelerate script. When
     neither says, the launcher still exports `no`; that `no` was nobody's choice, so the rules
     below decide, and `accelerate launch train.py` trains as `python train.py` does.
  3. A run being resumed: the precision it started with (config.json's `mixed_precision_resolved`;
     a run directory from before `auto` holds its literal `mixed_precision`).
  4. bf16 autocast where the device runs bf16 natively (CUDA compute capability >= 8.0; a CPU with
     AVX512_BF16 or AMX), else fp32 (`no`): emulated bf16 is slower than fp32. fp16 only when asked.
A resumed run keeps its precision: another one is refused (one line, exit 4).

Channels-last: `auto` turns it on where it measured faster (README, Speed): on the CPU (oneDNN's
native layout; fp32 and bf16) and on CUDA under bf16/fp16 (tensor cores take NHWC); off for CUDA fp32.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch

from genlat.errors import ConfigError, OutputError

ACCELERATE_ENV = "ACCELERATE_MIXED_PRECISION"
CHOICES = ("no", "bf16", "fp16")
CUDA_NATIVE_BF16 = (8, 0)  # Ampere and newer: bf16 tensor cores


@dataclass(frozen=True)
class Numerics:
    device: str  # cpu | cuda
    mixed_precision: str  # no | bf16 | fp16: what the Accelerator gets
    channels_last: bool
    source: str  # why this precision

    def describe(self) -> str:
        name = {"no": "fp32", "bf16": "bf16 autocast", "fp16": "fp16 autocast"}[self.mixed_precision]
        return f"training on the {self.device.upper()} in {name} ({self.source})" + (
            ", channels-last" if self.channels_last else ""
        )

    def record(self) -> dict:
        return {"mixed_precision_resolved": self.mixed_precision, "channels_last_resolved": self.channels_last}

    def accelerator(self):
        from accelerate import Accelerator

        # cpu=True is what makes `accelerate launch --multi_gpu` on a CPU machine give real ranks (gloo).
        # DDP keeps its default of broadcasting rank 0's BatchNorm buffers at each forward, so every
        # rank holds the running stats that are sampled and saved.
        return Accelerator(cpu=self.device == "cpu", mixed_precision=self.mixed_precision)


def device_type(cpu_flag: bool) -> str:
    """The device the Accelerator will pick: the CPU when asked (flag or ACCELERATE_USE_CPU) or when
    no GPU is visible."""
    from accelerate.utils import parse_flag_from_env

    if cpu_flag or parse_flag_from_env("ACCELERATE_USE_CPU") or not torch.cuda.is_available():
        return "cpu"
    return "cuda"


def _cpu_flag(name: str) -> bool:
    probe = getattr(torch.cpu, name, None)  # private torch helpers: absent in some versions
    return bool(probe and probe())


def native_bf16(device: str) -> bool:
    """Whether the device computes in bf16 natively (every visible GPU, on a multi-GPU machine)."""
    if device == "cuda":
        count = torch.cuda.device_count()
        return count > 0 and min(torch.cuda.get_device_capability(i) for i in range(count)) >= CUDA_NATIVE_BF16
    if device == "cpu":
        return _cpu_flag("_is_avx512_bf16_supported") or _cpu_flag("_is_amx_tile_supported")
    return False


def accelerate_launch_args() -> list[str] | None:
    """The options `accelerate launch` was given before this script, when it started this process
    (an ancestor's command line: the launcher itself, or it through torchrun), else None."""
    import psutil  # installed with accelerate

    script = os.path.basename(sys.argv[0])
    try:
        for parent in psutil.Process().parents():
            rest = _after_launch(parent.cmdline())
            if rest is not None:
                ends = [i for i, arg in enumerate(rest) if os.path.basename(arg) == script]
                return rest[: ends[0]] if ends else rest
    except psutil.Error:  # a parent we may not read (another user's): as if there were no launcher
        pass
    return None


def _after_launch(argv: list[str]) -> list[str] | None:
    """What follows `accelerate launch` (or `python -m accelerate.commands.launch`) in a command line."""
    for i, item in enumerate(argv):
        if item == "accelerate.commands.launch":
            return argv[i + 1 :]
        if os.path.basename(item) == "accelerate" and argv[i + 1 : i + 2] == ["launch"]:
            return argv[i + 2 :]
    return None


def launcher_chose(launch_args: list[str]) -> bool:
    """Whether `accelerate launch` had a precision to pass on: its --mixed_precision flag, or a config
    file (--config_file, or the default one, which it reads unless --cpu; accelerate/commands/launch.py)."""
    from accelerate.commands.config import config_args

    names = {a[2:].split("=", 1)[0].replace("-", "_") for a in launch_args if a.startswith("--")}
    if names & {"mixed_precision", "config_file"}:
        return True
    return "cpu" not in names and os.path.isfile(config_args.default_config_file)


def resolve_precision(
    requested: str,
    device: str,
    native: bool,
    env: dict | None = None,
    recorded: str | None = None,
    launch_args: list[str] | None = None,
) -> tuple[str, str]:
    """(precision, why), by the rules in this module's docstring. `launch_args`: the options of the
    `accelerate launch` that started this process (None: no launcher, so the variable was set by hand)."""
    env = os.environ if env is None else env
    launcher = env.get(ACCELERATE_ENV, "").strip().lower()
    if launcher == "no" and launch_args is not None and not launcher_chose(launch_args):
        launcher = ""  # Accelerate's default, not a choice
    if requested != "auto":
        precision, source = requested, "--mixed_precision"
    elif launcher:
        if launcher not in CHOICES:
            raise ConfigError(
                f"{ACCELERATE_ENV}={launcher} (from accelerate launch or its config): genlat trains "
                f"with {', '.join(CHOICES)}; set one of those"
            )
        precision, source = launcher, "Accelerate's setting (accelerate launch / config)"
    elif recorded:
        precision, source = recorded, "the run's own precision (resumed)"
    elif native:
        precision, source = "bf16", f"auto: this {device.upper()} runs bf16 natively"
    else:
        precision, source = "no", f"auto: this {device.upper()} has no native bf16"
    if precision == "fp16" and device == "cpu":
        raise ConfigError(f"--mixed_precision=fp16 (from {source}): needs a GPU; use bf16 (or no) on the CPU")
    return precision, source


def recorded_precision(existing: dict | None) -> str | None:
    """The precision an existing run directory trained with (None: no run there)."""
    if not existing:
        return None
    recorded = existing.get("mixed_precision_resolved") or existing.get("mixed_precision", "no")
    return recorded if recorded in CHOICES else None


def resolve_channels_last(requested: str, device: str, precision: str) -> bool:
    if requested != "auto":
        return requested == "true"
    return device == "cpu" or precision in ("bf16", "fp16")


def resolve(cfg, existing: dict | None = None, run_path: str = "the run directory") -> Numerics:
    """The run's numerics; refuses a precision other than the one an existing run started with."""
    device = device_type(cfg.cpu)
    recorded = recorded_precision(existing)
    launch_args = accelerate_launch_args() if os.environ.get(ACCELERATE_ENV) else None
    precision, source = resolve_precision(
        cfg.mixed_precision, device, native_bf16(device), recorded=recorded, launch_args=launch_args
    )
    if recorded and precision != recorded:
        raise OutputError(
            f"{run_path} was trained with mixed precision {recorded} (this command: {precision}, from "
            f"{source}); resume with --mixed_precision {recorded}, or pick another --name or --out"
        )
    return Numerics(device, precision, resolve_channels_last(cfg.channels_last, device, precision), source)
