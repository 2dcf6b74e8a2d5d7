"""User errors through the real entry points: one line naming the flag or file and what to do, the
exit code of its kind (genlat.errors), no traceback unless --debug, and nothing written."""

import dataclasses

import pytest
from PIL import Image

from benchmarks.train_speed import main as benchmark_main
from genlat.cli import eval_main, main, train_main
from genlat.config import TrainConfig
from genlat.errors import EXIT_DATA, EXIT_OUTPUT, EXIT_USAGE, GenlatError
from genlat.models import MODELS
from genlat.sweep.cli import sweep_main

# One refused value for every flag that has a check. A new checked flag needs an entry here.
BAD_VALUES = {
    "zn": "0",
    "lr": "-1",
    "beta1": "1.0",
    "epochs": "0",
    "batch_size": "0",
    "seed": "-1",
    "dataset": "imagenet",
    "image_size": "48",
    "channels": "2",
    "epoch_size": "0",
    "num_workers": "-1",
    "model": "vit",
    "ngf": "0",
    "ndf": "0",
    "beta": "0",
    "instance_noise": "-0.1",
    "instance_noise_images": "0",
    "label_smoothing": "0.5",
    "mixed_precision": "fp8",
    "channels_last": "sometimes",
    "n_samples": "0",
    "grid_nrow": "0",
    "interp_pairs": "0",
    "interp_steps": "1",
    "interp_methods": "cubic",
    "interp_every": "-1",
    "eval_every": "-1",
    "eval_full_every": "-2",
    "eval_samples": "8",
    "eval_feature_images": "10",
    "collapse_spread": "1.5",
    "collapse_epochs": "0",
    "name": "a/b",
    "keep_checkpoints": "0",
    "log_every": "0",
    "wandb_project": "a/b",
    "wandb_entity": "a:b",
    "out": "/tmp/" + "x" * 300,
    "eval_inception": "/nonexistent/inception.pth",
}
FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
NOT_A = {"int": "abc", "float": "fast", "bool": "maybe"}  # a value of the wrong type for each kind


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genlat: error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def test_every_checked_flag_has_a_refused_value():
    checked = {name for name, f in FIELDS.items() if f.metadata.get("check")}
    missing = checked - set(BAD_VALUES)
    assert not missing, f"add a refused value for {sorted(missing)} to BAD_VALUES in {__file__}"


@pytest.mark.parametrize("flag", sorted(BAD_VALUES))
def test_a_refused_value_is_one_line_exit_2(flag, tmp_path, capsys):
    out = [] if flag == "out" else ["--out", str(tmp_path / "runs")]  # a second --out would win
    assert train_main([f"--{flag}", BAD_VALUES[flag], *out]) == EXIT_USAGE
    assert f"--{flag}=" in _one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("flag", sorted(n for n, f in FIELDS.items() if str(f.type) in NOT_A))
def test_a_value_of_the_wrong_type_is_one_line_exit_2(flag, tmp_path, capsys):
    kind = str(FIELDS[flag].type)
    assert train_main([f"--{flag}={NOT_A[kind]}", "--out", str(tmp_path / "runs")]) == EXIT_USAGE
    line = _one_error_line(capsys)
    assert f"--{flag}={NOT_A[kind]}: must be" in line


def test_unknown_flags_and_missing_values(capsys):
    assert train_main(["--latent", "3"]) == EXIT_USAGE
    assert "--latent" in _one_error_line(capsys)
    assert train_main(["--zn"]) == EXIT_USAGE
    assert "--zn" in _one_error_line(capsys)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "does not exist"),  # missing
        (lambda p: p.mkdir(), "no image files"),  # empty
        (lambda p: (p.mkdir(), (p / "notes.txt").write_text("hi"), (p / "a.csv").write_text("1,2")), "no image files"),
        (lambda p: (p.mkdir(), (p / "x.png").write_bytes(b"not a png")), "could be read"),  # unreadable
        (
            lambda p: (p.mkdir(), Image.new("RGB", (40, 40)).save(p / "one.png")),
            "has 1 image(s); genlat needs at least 2",
        ),
    ],
)
def test_a_bad_dataset_is_one_line_exit_3(make, message, tmp_path, tiny_args, capsys):
    data = tmp_path / "images"
    make(data)
    assert train_main([*tiny_args, "--dataset", f"folder:{data}"]) == EXIT_DATA
    line = _one_error_line(capsys)
    assert message in line and str(data) in line
    assert not (tmp_path / "runs").exists()


def test_an_output_directory_that_cannot_be_written_is_exit_4(tmp_path, tiny_args, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a folder cannot be made under a file, even by root (chmod would not stop root)
    assert train_main([*tiny_args, "--out", str(blocker / "runs")]) == EXIT_OUTPUT
    line = _one_error_line(capsys)
    assert f"cannot write the run directory {blocker / 'runs'}" in line and "check --out" in line


OTHER_SETTINGS = [("zn", "16")] + [("model", m) for m in MODELS if m != "dcgan"]


@pytest.mark.parametrize("flag, value", OTHER_SETTINGS)
def test_resume_with_another_zn_or_model_is_refused(flag, value, tmp_path, tiny_args, capsys, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    args = [*tiny_args, "--epochs", "1", "--eval_every", "0", "--name", "x"]
    assert train_main(args) == 0
    capsys.readouterr()
    before = (tmp_path / "runs" / "x" / "metrics.jsonl").read_text()
    assert train_main([*args, f"--{flag}", value, "--resume"]) == EXIT_OUTPUT
    line = _one_error_line(capsys)
    assert f"holds a run with {flag}=" in line and f"this command: {flag}={value}" in line
    assert (tmp_path / "runs" / "x" / "metrics.jsonl").read_text() == before


def test_debug_shows_the_traceback_in_every_command(tmp_path, capsys):
    with pytest.raises(GenlatError):
        train_main(["--zn", "-5", "--debug"])
    with pytest.raises(GenlatError):
        eval_main([str(tmp_path / "no-run"), "--debug"])
    with pytest.raises(GenlatError):
        sweep_main([str(tmp_path / "no.yaml"), "--debug"])
    with pytest.raises(GenlatError):
        main(["report", str(tmp_path / "no-sweep"), "--debug"])
    with pytest.raises(GenlatError):
        benchmark_main(["--zn", "0", "--debug"])
    # and without it: one line each
    assert eval_main([str(tmp_path / "no-run")]) != 0
    assert str(tmp_path / "no-run") in _one_error_line(capsys)
    assert sweep_main([str(tmp_path / "no.yaml")]) == EXIT_USAGE
    assert "no.yaml" in _one_error_line(capsys)
    assert main(["report", str(tmp_path / "no-sweep")]) != 0
    assert "no-sweep" in _one_error_line(capsys)
    assert benchmark_main(["--zn", "0"]) == EXIT_USAGE
    assert "--zn=0" in _one_error_line(capsys)
    assert train_main(["--zn", "-5", "--debug=false"]) == EXIT_USAGE  # the agent's rendering of a false flag
    assert "--zn" in _one_error_line(capsys)
