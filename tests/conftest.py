"""Shared test set-up: W&B never touches the network or the user's home, torch stays small."""

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
torch.set_num_threads(2)

from tests.helpers import TINY  # noqa: E402  (needs ROOT on sys.path)


@pytest.fixture(scope="session")
def genlat_cache(tmp_path_factory):
    """One feature-net cache per test session (GENLAT_CACHE): rotation nets of file datasets. Shapes
    runs use the shipped reference nets (genlat/metrics/weights), never a cache."""
    return tmp_path_factory.mktemp("genlat-cache")


@pytest.fixture(autouse=True)
def _isolated_wandb(tmp_path, monkeypatch, genlat_cache):
    """Every test: W&B offline into its own temp dir, no API key, no netrc, no user settings."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb-home"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    monkeypatch.setenv(
        "WANDB_ARTIFACT_DIR", str(tmp_path / "wandb-artifacts")
    )  # Artifact.get()'s downloads, not ./artifacts
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_RUN_ID", raising=False)
    monkeypatch.delenv("WANDB_SWEEP_ID", raising=False)
    monkeypatch.setenv("GENLAT_OFFLINE", "1")
    monkeypatch.setenv("GENLAT_CACHE", str(genlat_cache))  # never the user's ~/.cache/genlat
    monkeypatch.delenv("GENLAT_WEIGHTS", raising=False)  # the shipped reference nets, whatever the shell says


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


@pytest.fixture
def wandb_server(monkeypatch):
    """A local W&B server on 127.0.0.1 (tests/wandb_server) and this process's environment pointed
    at it, online, with its API key. Fails the test if the client sent an operation it does not know."""
    from tests.wandb_server import LocalWandbServer

    server = LocalWandbServer().start()
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    yield server
    server.stop()
    server.check()
