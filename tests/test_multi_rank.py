"""Two ranks on the CPU (gloo): one run directory, one W&B run, the same weights on both ranks."""

import json

import torch
from accelerate import debug_launcher

from tests.conftest import TINY


def _worker(out: str):
    import genlat.trainer as trainer_module
    from genlat.cli import train_main

    torch.set_num_threads(1)  # two ranks on two cores
    original = trainer_module.GANTrainer.train_epoch

    def recording(self, *args, **kwargs):
        stats = original(self, *args, **kwargs)
        rank = self.accelerator.process_index
        params = [p.detach().cpu().clone() for p in self.accelerator.unwrap_model(self.g).parameters()]
        params += [p.detach().cpu().clone() for p in self.accelerator.unwrap_model(self.d).parameters()]
        torch.save(params, f"{out}/params-rank{rank}.pt")
        return stats

    trainer_module.GANTrainer.train_epoch = recording
    code = train_main([*TINY, "--out", f"{out}/runs", "--epochs", "1"])
    assert code == 0


def test_two_ranks_share_one_run(tmp_path):
    debug_launcher(_worker, args=(str(tmp_path),), num_processes=2)
    (run,) = (tmp_path / "runs").iterdir()
    config = json.loads((run / "config.json").read_text())
    assert config["world_size"] == 2
    assert len(list((run / "wandb").glob("offline-run-*"))) == 1
    rows = (run / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 1
    row = json.loads(rows[0])
    # 64 images per epoch shared by 2 ranks with batch 16: 2 steps each, 64 images in all
    assert row["epoch/steps"] == 2 and row["epoch/images"] == 64
    a = torch.load(tmp_path / "params-rank0.pt")
    b = torch.load(tmp_path / "params-rank1.pt")
    assert all(torch.equal(x, y) for x, y in zip(a, b))
