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


LONG = "x" * 300


@pytest.mark.parametrize("argv, flag, words", [
    (["--seed", str(2**64 + 1)], "--seed", "4294967295"),
    (["--name", LONG], "--name", "at most 255"),
    (["--out", f"/tmp/{LONG}"], "--out", "longer than 255"),
    (["--wandb_project", "a/b"], "--wandb_project", "may not contain '/'"),
    (["--wandb_entity", "me#1"], "--wandb_entity", "may not contain '#'"),
    (["--zn", "1000000000"], "--zn=1000000000", "GiB to train"),
    (["--batch_size", "128", "--epoch_size", "64"], "--batch_size=128", "larger than --epoch_size=64"),
    (["--lr", "-1e-4"], "--lr=-0.0001", "positive"),
    (["--beta1", "-.5e-1"], "--beta1", "[0, 1)"),
])  # fmt: skip
def test_refused_up_front_in_one_short_line(tmp_path, capsys, argv, flag, words):
    from genlat.cli import train_main

    out = tmp_path / "runs"
    assert train_main([*argv, *([] if "--out" in argv else ["--out", str(out)])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("genlat: error: ") and flag in err and words in err, err
    assert len(err) < 300 and not out.exists()  # a 300-character value is cut in the message; nothing created


def test_negative_values_still_parse_as_values():
    with pytest.raises(ConfigError, match="--zn=-1: must be a positive integer"):
        parse_args(["--zn", "-1"])
    assert parse_args(["--name", "-1e3"]).name == "-1e3"  # a string flag takes it as it is


def test_help_shows_each_default_once_and_never_none():
    from genlat.config import build_parser
    from genlat.sweep.cli import build_parser as sweep_parser

    for parser in (build_parser(), sweep_parser()):
        text = " ".join(parser.format_help().split())
        assert "(default: None)" not in text and "(default: )" not in text
        assert "no limit) (default" not in text  # a help that says its default in words gets no second one
    assert "(default: 1)" in " ".join(sweep_parser().format_help().split())  # --workers: a real default
    assert "last epoch only) (default: 0)" in " ".join(build_parser().format_help().split())  # 0 is a value, not "none"
