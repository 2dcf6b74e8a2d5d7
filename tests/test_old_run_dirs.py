"""Run directories written by older genlat code still resume, and land where a fresh run does.

tests/fixtures/runs_v1/ holds 1-epoch runs (config.json, metrics.jsonl, status.json and the epoch-1
checkpoint) made by the code of commit 5819a0c, before the trainers/ and Run reshape, with the
flags below (2 torch threads). Resuming one to epoch 2 must give the weights a fresh 2-epoch run gives
today: the checkpoint keys, the config record and the per-epoch seeds kept their meaning. Weights are
compared to float tolerance, not bit for bit: kernels on another CPU or thread count round differently,
while a changed seed, data order or step would change them entirely."""

import json
import shutil

import pytest
import torch

from genlat.cli import train_main
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "runs_v1"
FLAGS = [
    "--image_size",
    "32",
    "--epoch_size",
    "64",
    "--batch_size",
    "16",
    "--ngf",
    "2",
    "--ndf",
    "2",
    "--zn",
    "4",
    "--n_samples",
    "16",
    "--grid_nrow",
    "4",
    "--interp_pairs",
    "2",
    "--interp_steps",
    "4",
    "--log_every",
    "2",
    "--eval_samples",
    "0",
    "--mixed_precision",
    "no",
    "--channels_last",
    "false",  # what the fixtures ran with
]


def _last_state(run):
    return torch.load(sorted((run / "checkpoints").glob("*.pt"))[-1], weights_only=True)


@pytest.mark.parametrize("model", ["dcgan", "vae"])
def test_old_run_directory_resumes_to_epoch_2_like_a_fresh_run(tmp_path, model):
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # as the fixture was made (other tests change it)
    try:
        _resume_and_compare(tmp_path, model)
    finally:
        torch.set_num_threads(threads)


def _resume_and_compare(tmp_path, model):
    name = f"old-{model}"
    shutil.copytree(FIXTURES / name, tmp_path / "old" / name)
    args = [*FLAGS, "--model", model, "--name", name, "--epochs", "2"]
    assert train_main([*args, "--out", str(tmp_path / "old"), "--resume"]) == 0
    assert train_main([*args, "--out", str(tmp_path / "new")]) == 0

    old, new = tmp_path / "old" / name, tmp_path / "new" / name
    rows = [json.loads(line) for line in (old / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert json.loads((old / "status.json").read_text()) == {"state": "finished", "epoch": 2}
    # the resumed run kept the old run's W&B id
    assert (
        json.loads((old / "config.json").read_text())["wandb_id"]
        == json.loads((FIXTURES / name / "config.json").read_text())["wandb_id"]
    )
    state_old, state_new = _last_state(old), _last_state(new)
    assert state_old["epoch"] == state_new["epoch"] == 2
    nets = ["g", "d"] if model == "dcgan" else ["vae"]
    assert set(state_old) == set(state_new)
    for net in nets:
        for key, value in state_new[net].items():
            assert torch.allclose(state_old[net][key].float(), value.float(), rtol=1e-4, atol=1e-6), (net, key)


def test_a_temp_file_left_in_reconstructions_is_removed_on_the_next_start(tmp_path, capsys):
    """A kill while a VAE reconstruction PNG is written leaves `.epoch_001.png.XXXX.tmp`; the next start removes it."""
    name = "old-vae"
    shutil.copytree(FIXTURES / name, tmp_path / name)
    left = tmp_path / name / "reconstructions" / ".epoch_002.png.abcd1234.tmp"
    left.write_bytes(b"half a png")
    args = [*FLAGS, "--model", "vae", "--name", name, "--epochs", "2", "--out", str(tmp_path), "--resume"]
    assert train_main(args) == 0
    assert not left.exists()
    assert f"removed {left.name}" in capsys.readouterr().err
