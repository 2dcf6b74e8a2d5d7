"""Two ranks on the CPU through the real launcher (`accelerate launch --multi_gpu`, gloo):
one run directory, one W&B run, the same weights on both ranks after training."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from tests.helpers import ROOT, TINY, free_port, metrics_rows, only_run

# Runs in each rank: records that rank's parameters after every epoch's training, then trains as train.py does.
PROBE = textwrap.dedent(
    """
    import sys, torch
    sys.path.insert(0, {root!r})
    import genlat.trainers.base as trainer_module
    from genlat.cli import train_main

    original = trainer_module.Trainer.epoch_stats

    def recording(self, *args, **kwargs):
        stats = original(self, *args, **kwargs)
        unwrap = self.accelerator.unwrap_model
        nets = [part for part in self.parts.values() if isinstance(part, torch.nn.Module)]
        params = [p.detach().cpu().clone() for net in nets for p in unwrap(net).parameters()]
        torch.save(params, f"{out}/params-rank{{self.accelerator.process_index}}.pt")
        return stats

    trainer_module.Trainer.epoch_stats = recording
    sys.exit(train_main(sys.argv[1:]))
    """
)


@pytest.mark.parametrize("model", ["dcgan", pytest.param("vae", marks=pytest.mark.slow)])
def test_two_ranks_share_one_run(tmp_path, model):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE.format(root=str(ROOT), out=str(tmp_path)))
    launch = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "bf16",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
    ]
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [*launch, str(probe), *TINY, "--out", str(tmp_path / "runs"), "--epochs", "1", "--model", model],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = only_run(tmp_path / "runs")
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 2
    assert config["mixed_precision_resolved"] == "bf16"  # `accelerate launch --mixed_precision` wins over auto
    assert len(list((run / "wandb").glob("offline-run-*"))) == 1
    (row,) = metrics_rows(run)
    # 64 images per epoch shared by 2 ranks with batch 16: 2 steps each, 64 images in all
    assert row["epoch/steps"] == 2 and row["epoch/images"] == 64
    a = torch.load(tmp_path / "params-rank0.pt")
    b = torch.load(tmp_path / "params-rank1.pt")
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert proc.stderr.count("done: run directory") == 1  # only the main process reports
