"""The GAN's two stabilisers on the real trainer: instance noise annealed over images on D's inputs (replayable
from the seed) and one-sided label smoothing in D's loss."""

import time

import pytest
import torch
import torch.nn.functional as F
from accelerate import Accelerator

from genlat.cli import parse_args
from genlat.data import build_source
from genlat.trainers import GANTrainer

ARGS = [
    "--image_size",
    "32",
    "--ngf",
    "8",
    "--ndf",
    "8",
    "--zn",
    "8",
    "--batch_size",
    "16",
    "--epochs",
    "4",
    "--epoch_size",
    "16",
    "--instance_noise_images",
    "64",
]  # 1-step epochs of 16 images: the noise is gone after epoch 4


def _run_epoch(epoch: int, extra: list[str], real: torch.Tensor):
    """One 1-step epoch; returns the stats and what D saw (inputs, logits) in that step."""
    cfg = parse_args(ARGS + extra)
    trainer = GANTrainer(cfg, Accelerator(cpu=True), build_source(cfg))
    trainer.prepare()
    seen = []
    hook = trainer.accelerator.unwrap_model(trainer.d).register_forward_hook(
        lambda mod, inp, out: seen.append((inp[0].detach().clone(), out.detach().float().clone()))
    )
    t0 = time.perf_counter()
    ((_, sums),) = trainer.train_steps(epoch, iter([real]))
    stats = trainer.epoch_stats(sums, 1, t0)
    hook.remove()
    return stats, seen  # seen: D(real), D(fake) for the D step, then D(fake) for the G step


@pytest.fixture
def real():
    return torch.rand(16, 1, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1


@pytest.mark.parametrize("epoch", [1, 3])
def test_instance_noise_is_annealed_and_replays(real, epoch):
    _, seen = _run_epoch(epoch, ["--instance_noise", "0.2"], real)
    noise = seen[0][0] - real
    expected = 0.2 * (1 - (epoch - 1) * 16 / 64)
    assert abs(noise.std().item() - expected) < 0.1 * expected
    _, again = _run_epoch(epoch, ["--instance_noise", "0.2"], real)
    assert torch.equal(again[0][0], seen[0][0])  # the same (seed, epoch) draws the same noise
    _, other = _run_epoch(epoch + 1, ["--instance_noise", "0.2"], real)
    assert not torch.allclose(
        (other[0][0] - real).flatten()[:100], noise.flatten()[:100], atol=0.05
    )  # a new draw each epoch


def test_off_means_the_plain_dcgan_step(real):
    stats, seen = _run_epoch(1, ["--instance_noise", "0", "--label_smoothing", "0"], real)
    assert torch.equal(seen[0][0], real)
    (_, real_logits), (_, fake_logits) = seen[0], seen[1]
    plain = F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    assert stats.means["loss_d"] == pytest.approx(plain.item(), rel=1e-5)


def test_label_smoothing_targets_real_at_one_minus_it(real):
    stats, seen = _run_epoch(1, ["--instance_noise", "0", "--label_smoothing", "0.1"], real)
    (_, real_logits), (_, fake_logits) = seen[0], seen[1]
    smoothed = F.binary_cross_entropy_with_logits(
        real_logits, torch.full_like(real_logits, 0.9)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    assert stats.means["loss_d"] == pytest.approx(smoothed.item(), rel=1e-5)
