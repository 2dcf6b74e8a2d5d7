"""Refusals come before anything is created (the run folder, a W&B run), so the corrected command
simply runs; paths mean the same to every part (`~` expanded once); Ctrl-C while starting is a
preemption (exit 75), not a traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from genlat.cli import parse_args, train_main
from genlat.data.sampler import ImageSource
from genlat.errors import EXIT_OK, EXIT_PREEMPTED, EXIT_USAGE, DataError
from tests.helpers import ROOT, TINY, child_env


@pytest.mark.parametrize("mode", ["ofline", "bogus"])
def test_a_misspelt_wandb_mode_is_refused_before_the_run_folder(tmp_path, tiny_args, capsys, monkeypatch, mode):
    monkeypatch.setenv("WANDB_MODE", mode)
    assert train_main([*tiny_args, "--epochs", "1"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.strip() == f"genlat: error: WANDB_MODE={mode}: must be online, offline or disabled; fix or unset it"
    assert not (tmp_path / "runs").exists()


def test_a_missing_inception_file_is_refused_before_the_run_folder(tmp_path, tiny_args, capsys):
    assert train_main([*tiny_args, "--eval_inception", str(tmp_path / "nope.pth")]) == EXIT_USAGE
    assert "--eval_inception=" in capsys.readouterr().err and not (tmp_path / "runs").exists()


def test_tilde_means_home_for_every_path(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    (home / "imgs").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    cfg = parse_args(["--out=~/runs", "--data_dir=~/data", "--eval_inception="])
    assert (cfg.out, cfg.data_dir) == (f"{home}/runs", f"{home}/data")
    from PIL import Image

    for i in range(4):
        Image.new("RGB", (40, 40), (60 * i, 0, 0)).save(home / "imgs" / f"{i}.png")
    assert (
        train_main(
            [
                *TINY,
                "--epochs",
                "1",
                "--epoch_size",
                "4",
                "--batch_size",
                "2",
                "--eval_samples",
                "0",
                "--dataset=folder:~/imgs",
                "--out=~/runs",
                "--name",
                "t",
            ]
        )
        == EXIT_OK
    )
    run = home / "runs" / "t"
    assert (run / "config.json").exists() and list(
        (run / "wandb").glob("offline-run-*")
    )  # genlat's and W&B's files together
    assert not (tmp_path / "~").exists()


def test_no_lower_batch_size_advice_when_it_is_already_1():
    class Two(ImageSource):
        name, size = "two", 2

        def __len__(self):
            return self.size

    with pytest.raises(DataError) as e:
        Two().steps_per_epoch(1, 4)
    assert "lower --batch_size" not in str(e.value) and "use fewer processes" in str(e.value)
    with pytest.raises(DataError) as e:
        Two().steps_per_epoch(4, 1)
    assert "lower --batch_size" in str(e.value) and "fewer processes" not in str(e.value)


@pytest.mark.parametrize("delay", [0.3, 0.8, 2.0])  # inside the imports, the run's start, its first steps
def test_ctrl_c_while_starting_is_exit_75_without_a_traceback(tmp_path, delay):
    """Wherever a Ctrl-C lands while a run starts it ends the run with exit 75 and no traceback: never
    inside an import (a half-imported numpy failed later with AttributeError, exit 1) and never
    swallowed (the run trained to the end, exit 0)."""
    proc = subprocess.Popen(
        [sys.executable, "train.py", *TINY, "--out", str(tmp_path / "runs")],
        cwd=ROOT,
        env=child_env(),
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_PREEMPTED, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "genlat: interrupted" in err or "stopped by a signal in epoch" in err
