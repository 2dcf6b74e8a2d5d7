"""The flags: every refusal is one line naming the flag, exit code 2, and no work done."""

import re
import subprocess
import sys

import pytest

from genlat.cli import parse_args
from genlat.config import TrainConfig
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
        capture_output=True,
        text=True,
        cwd=tmp_path,
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


@pytest.mark.parametrize(
    "argv, flag, words",
    [
        (["--seed", str(2**64 + 1)], "--seed", "4294967295"),
        (["--name", LONG], "--name", "at most 255"),
        (["--out", f"/tmp/{LONG}"], "--out", "longer than 255"),
        (["--wandb_project", "a/b"], "--wandb_project", "may not contain '/'"),
        (["--wandb_entity", "me#1"], "--wandb_entity", "may not contain '#'"),
        (["--zn", "1000000000"], "--zn=1000000000", "GiB to train"),
        (["--batch_size", "128", "--epoch_size", "64"], "--batch_size=128", "larger than --epoch_size=64"),
        (["--lr", "-1e-4"], "--lr=-0.0001", "positive"),
        (["--beta1", "-.5e-1"], "--beta1", "[0, 1)"),
    ],
)
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
    from genlat.cli import build_parser
    from genlat.sweep.cli import build_parser as sweep_parser

    for parser in (build_parser(), sweep_parser()):
        text = " ".join(parser.format_help().split())
        assert "(default: None)" not in text and "(default: )" not in text
        assert "no limit) (default" not in text  # a help that says its default in words gets no second one
    assert "(default: 1)" in " ".join(sweep_parser().format_help().split())  # --workers: a real default
    assert "last epoch only) (default: 0)" in " ".join(build_parser().format_help().split())  # 0 is a value, not "none"


def _help() -> str:
    from genlat.cli import build_parser

    return build_parser().format_help()


def test_help_lists_every_flag_once_in_its_group():
    import dataclasses

    from genlat.cli import FLAG_GROUPS

    text = _help()
    titles = re.findall(r"^(\w+):$", text, flags=re.M)
    assert (
        titles == ["options", *FLAG_GROUPS] == ["options", "model", "data", "training", "evaluation", "tracking", "run"]
    )
    sections = dict(zip(titles, re.split(r"^\w+:$", text, flags=re.M)[1:]))
    for title, (_, names) in FLAG_GROUPS.items():
        listed = re.findall(r"^  --(\w+)", sections[title], flags=re.M)
        assert listed == names.split(), title  # each flag under its own heading, in the table's order
    every = re.findall(r"^  --(\w+)", text, flags=re.M)
    assert sorted(every) == sorted(f.name for f in dataclasses.fields(TrainConfig))


def test_help_shows_choices_and_on_off_flags():
    text = _help()
    for shown in [
        "--model {dcgan,vae}",
        "--dataset {shapes,mnist,fashion-mnist,cifar10,celeba,folder:PATH}",
        "--image_size {32,64}",
        "--mixed_precision {auto,no,fp16,bf16}",
        "--channels {0,1,3}",
        "--resume, --no-resume",
        "--cpu, --no-cpu",
        "--compile, --no-compile",
        "--debug, --no-debug",
        "--channels_last[={auto,true,false}], --no-channels_last",
    ]:
        assert shown in text, shown
    assert "[RESUME]" not in text and "--model STR" not in text and "--dataset STR" not in text
    assert "usage: train.py [options]" in text  # not 44 flags in one line: the groups below say them


def test_help_says_each_default_once():
    entries = {
        m.group(1): " ".join(m.group(0).split())
        for m in re.finditer(r"^  --(\w+).*?(?=^  -|^\S|\Z)", _help(), flags=re.M | re.S)
    }
    assert len(entries) == 45 and all(e.count("(default") <= 1 for e in entries.values())
    assert entries["eval_feature_images"].endswith("(default: 20000)")  # was hidden by the word "default" in its help
    assert entries["name"].endswith("(default: derived from the config)")  # said in words, so not added
    for flag in ["seed", "channels", "num_workers", "interp_every"]:
        assert entries[flag].endswith("(default: 0)"), flag  # 0 is a value, not "off"
    for flag in ["resume", "cpu", "compile", "debug"]:
        assert "(default" not in entries[flag], flag  # off: the --no- form says it


@pytest.mark.parametrize("form", ["args", "args_no_equals", "args_no_boolean_flags"])
def test_on_off_flags_take_every_form_the_sweep_agent_renders(form):
    """genlat.sweep.command renders parameters as `wandb agent` does: `--resume=True`, `--resume False`,
    a bare `--resume` (or nothing, for False); each must parse to the value the sweep gave."""
    from genlat.sweep.command import agent_args

    for resume, cpu in [(True, False), (False, True)]:
        argv = agent_args({"resume": resume, "cpu": cpu, "channels_last": "auto", "zn": 8})[form]
        cfg = parse_args(argv)
        assert (cfg.resume, cfg.cpu, cfg.channels_last, cfg.zn) == (resume, cpu, "auto", 8), argv


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--resume"], True),
        (["--resume=true"], True),
        (["--resume=True"], True),
        (["--resume", "yes"], True),
        (["--resume=false"], False),
        (["--resume=False"], False),
        (["--no-resume"], False),
        ([], False),
        (["--resume", "--no-resume"], False),
        (["--no-resume", "--resume"], True),  # the last one says
    ],
)
def test_on_off_flag_forms(argv, expected):
    assert parse_args(argv).resume is expected


def test_on_off_switch_with_auto():
    assert [
        parse_args(a).channels_last
        for a in (["--channels_last"], ["--no-channels_last"], ["--channels_last=auto"], ["--channels_last=False"])
    ] == ["true", "false", "auto", "false"]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--no-resume=true"], "--no-resume takes no value"),
        (["--resume=maybe"], "--resume=maybe: must be true or false"),
        (["--no-zn"], "unrecognized arguments: --no-zn"),  # only on/off flags have a --no- form
    ],
)
def test_on_off_misuse_is_one_line(argv, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        parse_args(argv)


def test_genlat_version(capsys):
    from importlib.metadata import version

    from genlat.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"genlat {version('genlat')}\n"
    proc = subprocess.run([sys.executable, "-m", "genlat", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.startswith("genlat ")


def test_the_flags_and_their_checks_load_without_torch():
    """A bad flag is refused before torch is imported (seconds): the config, its model table and the
    networks' widths (genlat.models, genlat.models.widths) import no torch."""
    code = (
        "import sys; from genlat.cli import parse_args; parse_args(['--model', 'vae', '--image_size', '64']); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr


def test_one_model_table():
    from genlat.models import MODELS
    from genlat.trainers import FAMILIES

    assert list(FAMILIES) == list(MODELS) and all(
        FAMILIES[name].__module__ == m.trainer.split(":")[0] for name, m in MODELS.items()
    )
    assert "--model {" + ",".join(MODELS) + "}" in _help()
    with pytest.raises(ConfigError, match="--model=vit: must be one of " + ", ".join(MODELS)):
        parse_args(["--model", "vit"])
