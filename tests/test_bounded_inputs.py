"""Sizes and numbers from the command line are bounded before anything is created: the memory
estimate covers every large allocation a run or `genlat eval` makes (the networks, a step's
activations, the latent bank and its spread, the panels, the evaluation's images and distance
matrix, the epoch's order) and refuses with the GiB it needs; a number past any sane setting
(`--lr 1e39`, which overflowed inside Adam) is refused by its flag's check."""

from __future__ import annotations

import pytest

from genlat.cli import eval_main, train_main
from genlat.config import TrainConfig, memory_needs
from genlat.errors import EXIT_USAGE
from tests.finished import copy, make_run


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("genlat: error: ") and "Traceback" not in err, err
    return err.strip()


@pytest.mark.parametrize(
    "argv, flag, part",
    [
        (["--n_samples", "200000000"], "--n_samples=200000000", "latent bank"),
        (["--interp_steps", "100000000"], "--interp_steps=100000000", "panels"),
        (["--eval_samples", "100000000"], "--eval_samples=100000000", "evaluation"),
        (["--batch_size", "100000000", "--epoch_size", "100000000"], "--batch_size=100000000", "batch"),
        (["--epoch_size", str(10**14)], f"--epoch_size={10**14}", "epoch order"),
        (["--zn", "1000000000"], "--zn=1000000000", "networks"),
    ],
)
def test_a_size_that_cannot_fit_in_memory_is_refused_with_the_gib(tmp_path, capsys, argv, flag, part):
    assert train_main([*argv, "--out", str(tmp_path / "runs")]) == EXIT_USAGE
    line = _one_line(capsys)
    assert flag in line.split(": ")[2] and "GiB of memory" in line and part in line
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--lr", "1e39"], "--lr=1e+39: must be at most 1"),
        (["--beta", "1e300"], "--beta=1e+300: must be at most"),
        (["--instance_noise", "1e30"], "--instance_noise=1e+30: must be at most"),
        (["--epochs", "10000000000"], "--epochs=10000000000: must be at most"),
        (["--eval_feature_images", "1000000000"], "--eval_feature_images=1000000000: must be from 64"),
        (["--num_workers", "100000"], "--num_workers=100000: must be at most"),
    ],
)
def test_a_number_past_any_sane_setting_is_refused(tmp_path, capsys, argv, words):
    assert train_main([*argv, "--out", str(tmp_path / "runs")]) == EXIT_USAGE
    assert words in _one_line(capsys)


def test_every_large_allocation_grows_with_its_flag():
    base = memory_needs(TrainConfig())
    for flag, part in [
        ("n_samples", "latent bank"),
        ("interp_steps", "panels"),
        ("eval_samples", "evaluation"),
        ("batch_size", "batch"),
        ("epoch_size", "epoch order"),
        ("ngf", "networks"),
    ]:
        bigger = memory_needs(TrainConfig(**{flag: getattr(TrainConfig(), flag) * 4}))
        assert bigger[part][0] > base[part][0], flag
    assert memory_needs(TrainConfig(), eval_samples=10**6)["evaluation"][0] > 10**12 * 8  # the k-NN matrix


def test_genlat_eval_refuses_samples_that_cannot_fit(tmp_path, capsys):
    run = copy(make_run(tmp_path / "made"), tmp_path / "runs" / "r")
    capsys.readouterr()
    assert eval_main([str(run), "--samples", "100000000"]) == EXIT_USAGE
    line = _one_line(capsys)
    assert "--samples=100000000" in line and "evaluation" in line and "GiB of memory" in line


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--workers", "1000000000"], "--workers=1000000000: must be a positive integer, at most 1,024"),
        (["--count", "0"], "--count=0: must be a positive integer"),
        (["--retries", "1000000"], "--retries=1000000: must be from 0 to 1000"),
        (["--grace", "1e300"], "--grace=1e+300: must be a finite number of seconds from 0 to 86400"),
    ],
)
def test_genlat_sweep_numbers_are_bounded(tmp_path, capsys, argv, words):
    from genlat.sweep.cli import sweep_main
    from tests.helpers import sweep_file

    assert sweep_main([str(sweep_file(tmp_path / "s.yaml")), "--dir", str(tmp_path / "out"), *argv]) == EXIT_USAGE
    assert words in _one_line(capsys) and not (tmp_path / "out").exists()


@pytest.mark.parametrize("model, image_size", [("dcgan", 32), ("dcgan", 64), ("vae", 32), ("vae", 64)])
def test_the_network_estimate_counts_the_networks_the_models_build(model, image_size):
    """memory_needs reads the layers from genlat.models.widths, as the networks do: its count is the
    networks' own convolution weights (a lower bound: BatchNorm and biases are left out)."""
    from math import prod

    from genlat.trainers import checkpoint_shapes

    cfg = TrainConfig(model=model, image_size=image_size, zn=24, ngf=12, ndf=10)
    shapes = checkpoint_shapes(cfg, channels=1)
    real = sum(prod(s) for net in shapes.values() for s in net.values())
    convs = sum(prod(s) for net in shapes.values() for s in net.values() if len(s) == 4)
    estimate = memory_needs(cfg)["networks"][0] // 16  # bytes per parameter: weight, gradient, Adam's two moments
    assert estimate == convs and estimate <= real
