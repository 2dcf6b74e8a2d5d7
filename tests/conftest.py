"""Shared test set-up: W&B never touches the network or the user's home, torch stays small."""

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _isolated_wandb(tmp_path, monkeypatch):
    """Every test: W&B offline into its own temp dir, no API key, no netrc, no user settings."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb-home"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_RUN_ID", raising=False)
    monkeypatch.delenv("WANDB_SWEEP_ID", raising=False)
    monkeypatch.setenv("GENLAT_OFFLINE", "1")


TINY = [
    "--image_size", "32", "--epoch_size", "64", "--batch_size", "16", "--ngf", "8", "--ndf", "8",
    "--zn", "8", "--n_samples", "16", "--grid_nrow", "4", "--interp_pairs", "2", "--interp_steps", "4",
    "--log_every", "2",
]  # fmt: skip


@pytest.fixture
def tiny_args(tmp_path):
    """Flags for a run that trains in about a second: 32x32, 4 steps per epoch, narrow nets."""
    return TINY + ["--out", str(tmp_path / "runs")]


@pytest.fixture(autouse=True)
def _fresh_accelerate_state():
    """Accelerate keeps one global state per process; in-process runs with other settings need it reset."""
    yield
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
