"""A real run through the real entry points: the run directory, the images, W&B's offline files."""

import json
import subprocess
import sys

import torch
from PIL import Image

from genlat.cli import train_main
from tests.helpers import ROOT, metrics_rows, only_run


def test_two_epochs_write_the_whole_run_directory(tmp_path, tiny_args):
    # the real script in a fresh process, as `python train.py` (W&B offline into tmp, see conftest)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *tiny_args, "--epochs", "2", "--interp_every", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = only_run(tmp_path / "runs")
    assert run.name == "shapes32-dcgan-zn8-lr0.0002-s0"

    config = json.loads((run / "config.json").read_text())
    assert config["zn"] == 8 and config["g_params"] > 0 and config["d_params"] > 0
    assert config["versions"]["torch"] == torch.__version__

    rows = metrics_rows(run)
    assert [r["epoch"] for r in rows] == [1, 2]
    row = rows[-1]
    assert row["epoch/steps"] == 4 and row["epoch/images"] == 64 and row["epoch/images_per_s"] > 0

    # 16 bank samples, 4 per row, 32 px + 2 px padding -> 4 x 4 grid of 34 px cells (+2)
    with Image.open(run / "samples" / "epoch_002.png") as grid:
        assert grid.size == (4 * 34 + 2, 4 * 34 + 2)
    for method in ("slerp", "lerp"):
        with Image.open(run / "interpolation" / f"epoch_002_{method}.png") as panel:
            assert panel.size == (4 * 34 + 2, 2 * 34 + 2)  # 4 steps x 2 pairs
        assert (run / "interpolation" / f"epoch_001_{method}_pair1.png").exists()  # --interp_every 1
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.pt", "epoch_001.pt", "epoch_002.pt"]
    assert json.loads((run / "status.json").read_text())["state"] == "finished"

    # one offline W&B run inside the run directory, with its tables and their media
    (wandb_run,) = (run / "wandb").glob("offline-run-*")
    assert wandb_run.name.endswith(config["wandb_id"])
    assert list(wandb_run.glob("*.wandb"))
    # table media are staged in WANDB_DATA_DIR inside the run dir, so `wandb sync` of it uploads them
    staged = [p.read_bytes()[:8] for p in (run / "wandb-data").rglob("*") if p.is_file()]
    assert sum(head == b"\x89PNG\r\n\x1a\n" for head in staged) >= 8
    tables = {p.name.split("_")[0] for p in wandb_run.glob("files/media/table/*.table.json")}
    assert {"epoch", "interpolation"} <= tables
    assert "done: run directory" in proc.stderr + proc.stdout


def test_rerun_of_a_finished_run_does_nothing(tmp_path, tiny_args):
    assert train_main([*tiny_args, "--epochs", "1"]) == 0
    run = only_run(tmp_path / "runs")
    before = (run / "metrics.jsonl").read_text()
    assert train_main([*tiny_args, "--epochs", "1"]) == 0
    assert (run / "metrics.jsonl").read_text() == before


def test_existing_run_with_other_settings_is_refused(tmp_path, tiny_args):
    assert train_main([*tiny_args, "--epochs", "1", "--name", "x"]) == 0
    assert train_main([*tiny_args, "--epochs", "1", "--name", "x", "--lr", "0.001"]) == 4


def test_resume_without_a_run_is_refused(tmp_path, tiny_args):
    assert train_main([*tiny_args, "--resume"]) == 2
    assert not (tmp_path / "runs").exists()


def test_fp16_on_cpu_is_refused(tmp_path, tiny_args):
    assert train_main([*tiny_args, "--mixed_precision", "fp16"]) == 2


def test_bf16_runs_on_cpu(tmp_path, tiny_args):
    assert train_main([*tiny_args, "--epochs", "1", "--mixed_precision", "bf16"]) == 0
    (row,) = metrics_rows(only_run(tmp_path / "runs"))
    assert torch.isfinite(torch.tensor([row["epoch/loss_d"], row["epoch/loss_g"]])).all()


def test_wandb_disabled_writes_no_wandb_files(tmp_path, tiny_args, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert train_main([*tiny_args, "--epochs", "1"]) == 0
    run = only_run(tmp_path / "runs")
    assert (run / "samples" / "epoch_001.png").exists()
    assert not list((run / "wandb").iterdir())


def test_mode_resolution(monkeypatch, tmp_path):
    from genlat.wandb_access import resolve_mode

    monkeypatch.delenv("WANDB_MODE")
    assert resolve_mode() == "offline"  # no key, no netrc: never try a server
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password " + "x" * 40 + "\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert resolve_mode() == "online"
    monkeypatch.setenv("WANDB_MODE", "dryrun")
    assert resolve_mode() == "offline"
