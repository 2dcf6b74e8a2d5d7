"""`--mixed_precision auto` and `--channels_last auto` on mocked devices (genlat.precision), and what a
run records and refuses."""

import json
import os
import subprocess
import sys

import pytest
import torch
from accelerate.commands.config import config_args

from genlat import precision
from genlat.cli import parse_args, train_main
from genlat.config import TrainConfig
from genlat.errors import ConfigError, OutputError
from genlat.precision import (
    _after_launch,
    device_type,
    native_bf16,
    recorded_precision,
    resolve,
    resolve_channels_last,
    resolve_precision,
)
from tests.helpers import ROOT, TINY


@pytest.mark.parametrize(
    "device, native, expected",
    [
        ("cuda", True, "bf16"),
        ("cuda", False, "no"),
        ("cpu", True, "bf16"),
        ("cpu", False, "no"),
    ],
)
def test_auto_is_bf16_only_where_the_device_runs_it_natively(device, native, expected):
    assert resolve_precision("auto", device, native, env={})[0] == expected


def test_an_explicit_flag_wins_and_fp16_is_never_chosen_alone():
    assert resolve_precision("no", "cpu", True, env={"ACCELERATE_MIXED_PRECISION": "bf16"}) == (
        "no",
        "--mixed_precision",
    )
    assert resolve_precision("bf16", "cpu", False, env={})[0] == "bf16"  # asked for: emulated, but asked
    assert resolve_precision("fp16", "cuda", True, env={})[0] == "fp16"
    assert all(resolve_precision("auto", d, n, env={})[0] != "fp16" for d in ("cpu", "cuda") for n in (True, False))


@pytest.mark.parametrize("launcher", ["no", "bf16", "fp16"])
def test_accelerates_setting_wins_over_auto(launcher):
    # `accelerate launch --mixed_precision X` (or its config) hands X over in this variable; `no` is its default
    got, source = resolve_precision("auto", "cuda", True, env={"ACCELERATE_MIXED_PRECISION": launcher.upper()})
    assert got == launcher and "Accelerate" in source


@pytest.mark.parametrize(
    "launch_args, config_file, expected",
    [
        ([], False, "bf16"),  # `accelerate launch train.py`, no config: its `no` is nobody's choice
        (["--num_processes", "1"], False, "bf16"),
        (["--mixed_precision", "no"], False, "no"),  # told so
        (["--mixed-precision=no"], False, "no"),  # accelerate takes dashes too
        (["--config_file", "mine.yaml"], False, "no"),  # a config file that says no
        ([], True, "no"),  # the default config file (`accelerate config`) says no
        (["--cpu"], True, "bf16"),  # ... but accelerate launch --cpu does not read it
        (None, False, "no"),  # no launcher: ACCELERATE_MIXED_PRECISION=no was set by hand
    ],
)
def test_accelerates_no_counts_only_when_someone_chose_it(launch_args, config_file, expected, tmp_path, monkeypatch):
    default = tmp_path / "default_config.yaml"
    if config_file:
        default.write_text("mixed_precision: 'no'\n")
    monkeypatch.setattr(config_args, "default_config_file", str(default))
    got, source = resolve_precision(
        "auto", "cpu", True, env={"ACCELERATE_MIXED_PRECISION": "no"}, launch_args=launch_args
    )
    assert got == expected
    assert ("auto:" in source) == (expected == "bf16")


def test_the_launchers_options_are_read_from_its_command_line():
    console_script = ["/venv/bin/python3", "/venv/bin/accelerate", "launch", "--cpu", "train.py", "--zn=8"]
    assert _after_launch(console_script) == ["--cpu", "train.py", "--zn=8"]
    assert _after_launch(["python", "-m", "accelerate.commands.launch", "--multi_gpu", "x.py"]) == [
        "--multi_gpu",
        "x.py",
    ]
    assert _after_launch(["python", "train.py", "--zn", "8"]) is None
    assert _after_launch(["bash", "-c", "accelerate"]) is None


def test_accelerate_launch_with_no_config_trains_as_python_train_py(tmp_path):
    """Before: the launcher's default `no` won over auto, so sweep.yaml (accelerate launch) trained in fp32
    where sweeps/quick.yaml (python) trained in bf16 on the same machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCELERATE_")}
    env["HF_HOME"] = str(tmp_path / "hf")  # no accelerate config file
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            str(ROOT / "train.py"),
            *TINY,
            "--epochs",
            "1",
            "--eval_every",
            "0",
            "--out",
            str(tmp_path / "runs"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    device = device_type(False)
    auto = resolve_precision("auto", device, native_bf16(device), env={})[0]  # what `python train.py` trains in
    assert _config(tmp_path)["mixed_precision_resolved"] == auto
    assert f"in {'bf16 autocast' if auto == 'bf16' else 'fp32'} (auto: this {device.upper()}" in proc.stderr


def test_accelerates_fp8_and_fp16_on_the_cpu_are_refused_in_one_line():
    with pytest.raises(ConfigError, match="ACCELERATE_MIXED_PRECISION=fp8"):
        resolve_precision("auto", "cuda", True, env={"ACCELERATE_MIXED_PRECISION": "fp8"})
    with pytest.raises(ConfigError, match="fp16 .*Accelerate.*needs a GPU"):
        resolve_precision("auto", "cpu", True, env={"ACCELERATE_MIXED_PRECISION": "fp16"})


def test_a_resumed_run_keeps_the_precision_it_started_with():
    assert resolve_precision("auto", "cpu", False, env={}, recorded="bf16")[0] == "bf16"
    assert resolve_precision("auto", "cpu", True, env={}, recorded="no")[0] == "no"
    # an old run directory (before auto) recorded its literal setting, fp32 unless it said bf16
    assert recorded_precision({"mixed_precision": "no"}) == "no"
    assert recorded_precision({"mixed_precision": "bf16"}) == "bf16"
    assert recorded_precision({"mixed_precision": "auto", "mixed_precision_resolved": "bf16"}) == "bf16"
    assert recorded_precision({"zn": 8}) == "no" and recorded_precision(None) is None


def test_resume_with_another_precision_is_refused(monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)
    old = {"mixed_precision": "no"}
    assert resolve(TrainConfig(cpu=True), old).mixed_precision == "no"  # auto follows the run
    with pytest.raises(OutputError, match="trained with mixed precision no .*--mixed_precision no"):
        resolve(TrainConfig(cpu=True, mixed_precision="bf16"), old)
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")  # a relaunch through Accelerate asking for bf16
    with pytest.raises(OutputError, match="from Accelerate"):
        resolve(TrainConfig(cpu=True), old)


def test_native_bf16_reads_the_cpus_flags_and_every_gpus_capability(monkeypatch):
    for avx512_bf16, amx, expected in ((True, False, True), (False, True, True), (False, False, False)):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v)
        assert native_bf16("cpu") is expected
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported")  # a torch without the private probe
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert native_bf16("cpu") is False
    caps = {0: (9, 0), 1: (7, 5)}  # an H100 beside a T4: the run cannot be bf16 on every rank
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(caps))
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i=0: caps[i])
    assert native_bf16("cuda") is False
    caps[1] = (8, 0)  # A100
    assert native_bf16("cuda") is True


def test_channels_last_auto_follows_the_measured_rule():
    assert resolve_channels_last("auto", "cpu", "no") and resolve_channels_last("auto", "cpu", "bf16")
    assert resolve_channels_last("auto", "cuda", "bf16") and not resolve_channels_last("auto", "cuda", "no")
    assert not resolve_channels_last("false", "cpu", "bf16") and resolve_channels_last("true", "cuda", "no")


def test_channels_last_flag_spellings():
    assert parse_args(["--channels_last"]).channels_last == "true"  # a bare flag, as the sweep agent renders it
    assert parse_args(["--channels_last=False"]).channels_last == "false"
    assert parse_args([]).channels_last == "auto" and parse_args([]).mixed_precision == "auto"
    assert TrainConfig.from_dict({"channels_last": True}).channels_last == "true"  # an old config.json
    with pytest.raises(ConfigError, match="--channels_last=sometimes: must be one of auto, true, false"):
        parse_args(["--channels_last", "sometimes"])


def _run(tmp_path):
    (run,) = (tmp_path / "runs").iterdir()
    return run


def _config(tmp_path):
    return json.loads((_run(tmp_path) / "config.json").read_text())


def test_a_run_records_what_auto_became(tmp_path, tiny_args, monkeypatch, capsys):
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)
    assert train_main([*tiny_args, "--epochs", "1"]) == 0
    config = _config(tmp_path)
    assert (config["mixed_precision"], config["mixed_precision_resolved"]) == ("auto", "bf16")
    assert (config["channels_last"], config["channels_last_resolved"]) == ("auto", True)
    assert (
        "training on the CPU in bf16 autocast (auto: this CPU runs bf16 natively), channels-last"
        in capsys.readouterr().err
    )


def test_accelerates_setting_reaches_the_run(tmp_path, tiny_args, monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")  # set by hand (no launcher above this process): a choice
    assert train_main([*tiny_args, "--epochs", "1"]) == 0
    assert _config(tmp_path)["mixed_precision_resolved"] == "no"


def test_resume_keeps_the_runs_precision_and_refuses_another(tmp_path, tiny_args, monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)
    assert train_main([*tiny_args, "--epochs", "1", "--mixed_precision", "no", "--eval_every", "0"]) == 0
    assert train_main([*tiny_args, "--epochs", "2", "--eval_every", "0"]) == 0  # auto: the run's own fp32
    assert _config(tmp_path)["mixed_precision_resolved"] == "no"
    assert train_main([*tiny_args, "--epochs", "3", "--mixed_precision", "bf16", "--eval_every", "0"]) == 4
    assert len((_run(tmp_path) / "metrics.jsonl").read_text().splitlines()) == 2
