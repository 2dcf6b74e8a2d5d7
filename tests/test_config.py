"""The flags: every refusal is one line naming the flag, exit code 2, and no work done."""

import subprocess
import sys

import pytest

from genlat.config import TrainConfig, parse_args
from genlat.errors import ConfigError
from tests.helpers import ROOT


def test_defaults_and_both_flag_forms():
    cfg = parse_args([])
    assert cfg == TrainConfig()
    assert parse_args(["--zn", "50"]).zn == 50
    assert parse_args(["--zn=50", "--lr=1e-3"]).lr == 1e-3
    assert parse_args(["--resume"]).resume is True
    assert parse_args(["--resume=False"]).resume is False
    assert parse_args(["--dataset", "folder:/x/y"]).dataset == "folder:/x/y"


def test_run_name_from_config():
    assert parse_args(["--zn", "50", "--lr", "0.001"]).run_name == "shapes32-dcgan-zn50-lr0.001-s0"
    assert parse_args(["--name", "mine"]).run_name == "mine"


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["--zn", "0"], "--zn"),
        (["--zn", "abc"], "--zn"),
        (["--zn", "1.5"], "--zn"),
        (["--lr", "-1"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--epochs", "0"], "--epochs"),
        (["--image_size", "48"], "--image_size"),
        (["--dataset", "imagenet"], "--dataset"),
        (["--dataset", "folder:"], "--dataset"),
        (["--model", "vit"], "--model"),
        (["--mixed_precision", "fp8"], "--mixed_precision"),
        (["--beta1", "1.0"], "--beta1"),
        (["--instance_noise", "-0.1"], "--instance_noise"),
        (["--label_smoothing", "0.5"], "--label_smoothing"),
        (["--interp_methods", "slerp,cubic"], "--interp_methods"),
        (["--interp_steps", "1"], "--interp_steps"),
        (["--name", "a/b"], "--name"),
        (["--resume=maybe"], "--resume"),
        (["--bogus", "1"], "--bogus"),
        (["--zn"], "--zn"),
    ],
)
def test_bad_values_name_the_flag(argv, flag):
    with pytest.raises(ConfigError) as e:
        parse_args(argv)
    assert flag in str(e.value) and "\n" not in str(e.value)


def test_from_dict_refuses_unknown_and_converts():
    assert TrainConfig.from_dict({"zn": 50.0, "lr": "1e-3"}).zn == 50
    with pytest.raises(ConfigError, match="--nope"):
        TrainConfig.from_dict({"nope": 1})


def test_cli_refusal_is_one_line_exit_2_no_traceback(tmp_path):
    out = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), "--zn", "-5", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "genlat: error: --zn=-5: must be a positive integer"
    assert "Traceback" not in proc.stderr
    assert not out.exists()  # nothing was created


def test_genlat_command_dispatch():
    from genlat.cli import main

    assert main(["nope"]) == 2
    assert main(["train", "--image_size=7"]) == 2
