"""The GAN trainer: models, optimizers, the training step, sampling, and the state to resume from.

It holds no files and no tracker: `genlat.run` decides what is written and logged. The same code
runs on the CPU, one GPU or many (Accelerate wraps the models in DDP and handles mixed precision).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from accelerate import Accelerator

from genlat.latent import interpolation_paths, latent_bank
from genlat.models import build_models, count_parameters


def derived_seed(*parts) -> int:
    """A stable 63-bit seed from any parts (same value in every process and Python version)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


@dataclass
class EpochStats:
    loss_d: float
    loss_g: float
    d_real: float  # mean D(x) probability on real images
    d_fake: float  # mean D(G(z)) probability on generated images
    steps: int
    images: int  # over all processes
    seconds: float
    preempted: bool = False

    @property
    def finite(self) -> bool:
        return math.isfinite(self.loss_d) and math.isfinite(self.loss_g)


class GANTrainer:
    def __init__(self, cfg, accelerator: Accelerator, channels: int):
        self.cfg, self.accelerator = cfg, accelerator
        g, d = build_models(cfg, channels)
        self.g_params, self.d_params = count_parameters(g), count_parameters(d)
        betas = (cfg.beta1, 0.999)
        opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=betas)
        opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=betas)
        self._raw = (g, d, opt_g, opt_d)  # loaded into before `prepare` when resuming
        # The same bank on every rank: drawn on the CPU from the seed, then moved.
        self.bank = latent_bank(cfg.zn, cfg.n_samples, cfg.seed)

    def load_state(self, state: dict) -> None:
        g, d, opt_g, opt_d = self._raw
        g.load_state_dict(state["g"])
        d.load_state_dict(state["d"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        self._pending_scaler = state.get("scaler")
        if state.get("rng_cpu") is not None:
            torch.set_rng_state(state["rng_cpu"])

    def prepare(self) -> None:
        self.g, self.d, self.opt_g, self.opt_d = self.accelerator.prepare(*self._raw)
        scaler = getattr(self, "_pending_scaler", None)
        if scaler and self.accelerator.scaler is not None:
            self.accelerator.scaler.load_state_dict(scaler)

    def state_dict(self) -> dict:
        unwrap = self.accelerator.unwrap_model
        scaler = self.accelerator.scaler
        return {
            "g": unwrap(self.g).state_dict(),
            "d": unwrap(self.d).state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "rng_cpu": torch.get_rng_state(),
        }

    def train_epoch(
        self,
        epoch: int,
        batches: Iterator[torch.Tensor],
        steps: int,
        on_step: Callable[[int, torch.Tensor], None],
        should_stop: Callable[[int], bool],
    ) -> EpochStats:
        """One pass over the epoch's batches. `on_step(step, sums)` sees the running loss sums on
        the device; reading them (a host sync) is the caller's choice, every few steps."""
        acc, device = self.accelerator, self.accelerator.device
        self.g.train()
        self.d.train()
        # z for this epoch and rank comes from its own seed: an epoch replays exactly after a resume.
        gen = torch.Generator(device=device).manual_seed(derived_seed(self.cfg.seed, "z", epoch, acc.process_index))
        sums = torch.zeros(4, device=device)  # loss_d, loss_g, d_real, d_fake
        t0, done = time.perf_counter(), 0
        for step, real in enumerate(batches, start=1):
            z = torch.randn(real.shape[0], self.cfg.zn, generator=gen, device=device)
            logits = self._step(real, z)
            sums += logits
            done = step
            on_step(step, sums)
            if should_stop(step):
                return EpochStats(0.0, 0.0, 0.0, 0.0, done, 0, time.perf_counter() - t0, preempted=True)
        if acc.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        mean = acc.reduce(sums, reduction="mean") / max(done, 1)
        loss_d, loss_g, d_real, d_fake = mean.tolist()
        images = done * self.cfg.batch_size * acc.num_processes
        return EpochStats(loss_d, loss_g, d_real, d_fake, done, images, seconds)

    def _step(self, real: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The DCGAN step (non-saturating loss). Returns detached [loss_d, loss_g, D(x), D(G(z))]."""
        acc = self.accelerator
        fake = self.g(z)
        # D: real -> 1, fake -> 0 (the fake is detached: this step does not train G)
        real_logits = self.d(real)
        fake_logits = self.d(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(real_logits.float(), torch.ones_like(real_logits, dtype=torch.float)) + \
            F.binary_cross_entropy_with_logits(fake_logits.float(), torch.zeros_like(fake_logits, dtype=torch.float))
        self.opt_d.zero_grad(set_to_none=True)
        acc.backward(loss_d)
        self.opt_d.step()
        # G: make D call the fake real
        gen_logits = self.d(fake)
        loss_g = F.binary_cross_entropy_with_logits(gen_logits.float(), torch.ones_like(gen_logits, dtype=torch.float))
        self.opt_g.zero_grad(set_to_none=True)
        acc.backward(loss_g)
        self.opt_g.step()
        with torch.no_grad():
            return torch.stack(
                [loss_d, loss_g, torch.sigmoid(real_logits.float()).mean(), torch.sigmoid(fake_logits.float()).mean()]
            ).detach()

    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """G(z) in eval mode on this process alone (the unwrapped model: no DDP collectives)."""
        g = self.accelerator.unwrap_model(self.g)
        was_training = g.training
        g.eval()
        try:
            outs = [g(chunk.to(self.accelerator.device)).float().cpu() for chunk in z.split(batch)]
        finally:
            g.train(was_training)
        return torch.cat(outs)

    def sample_bank(self) -> torch.Tensor:
        return self.generate(self.bank)  # (n_samples, C, H, W)

    def interpolate(self, method: str) -> torch.Tensor:
        """(pairs, steps, C, H, W): each row walks from one bank vector to the next."""
        paths = interpolation_paths(self.bank, self.cfg.interp_pairs, self.cfg.interp_steps, method)
        pairs, steps = paths.shape[:2]
        images = self.generate(paths.reshape(pairs * steps, -1))
        return images.reshape(pairs, steps, *images.shape[1:])
