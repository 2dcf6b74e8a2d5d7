"""The reference: the training loop of pytorch/examples `dcgan/main.py`, as users run it.

What is kept from the example, because it is what users compare against: fp32, Adam(lr, beta1),
a Sigmoid head with `nn.BCELoss`, label tensors filled every step, D trained on the real and the
fake batch with two backward passes, G trained through D (which also computes D's weight
gradients), five `.item()` host reads and a formatted log line every step, and batches from a
`DataLoader` (shuffled) moved to the device with `.to(device)`.

What differs, and why: the networks are genlat's own DCGAN modules (the same layers as the
example's, built by `genlat.trainers.build_models`, so both sides train identical architectures
from identical weights); the data are shapes images rendered once up front into a
`TensorDataset` (the example decodes image files, which would only make it slower); the loader
has no worker processes (they would compete for the same cores as the step); the log line goes
to os.devnull instead of the terminal; the example's sample PNG every 100 steps and its
checkpoint every epoch are left out. Each choice makes the reference faster, never slower.
"""

from __future__ import annotations

import os
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from genlat.config import TrainConfig
from genlat.data import ShapesSource
from genlat.trainers import build_models

REAL_LABEL, FAKE_LABEL = 1.0, 0.0


class ReferenceLoop:
    def __init__(self, cfg: TrainConfig, device: torch.device, images: int = 2048):
        self.cfg, self.device = cfg, device
        g, d = build_models(cfg, channels=1).values()  # {"g": G, "d": D}
        self.net_g = g.to(device)
        self.net_d = nn.Sequential(d, nn.Sigmoid()).to(device)  # the example's D ends in a Sigmoid
        self.criterion = nn.BCELoss()
        betas = (cfg.beta1, 0.999)
        self.opt_d = torch.optim.Adam(self.net_d.parameters(), lr=cfg.lr, betas=betas)
        self.opt_g = torch.optim.Adam(self.net_g.parameters(), lr=cfg.lr, betas=betas)
        source = ShapesSource(images, cfg.image_size)
        data = source.render_indices(torch.arange(images))  # (N, 1, H, W) on the CPU, like a decoded dataset
        self.loader = DataLoader(
            TensorDataset(data),
            batch_size=cfg.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=0,
            generator=torch.Generator().manual_seed(cfg.seed),
        )
        self.batches = iter(self.loader)
        self.log = open(os.devnull, "w")
        self.errors: list[tuple[float, float]] = []  # (errD, errG) of every step, read as the example does

    def _next(self) -> torch.Tensor:
        try:
            return next(self.batches)[0]
        except StopIteration:  # a new epoch of the loader
            self.batches = iter(self.loader)
            return next(self.batches)[0]

    def step(self, i: int) -> None:
        nz, device = self.cfg.zn, self.device
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        self.net_d.zero_grad()
        real = self._next().to(device)
        batch_size = real.size(0)
        label = torch.full((batch_size,), REAL_LABEL, dtype=real.dtype, device=device)
        output = self.net_d(real)
        err_d_real = self.criterion(output, label)
        err_d_real.backward()
        d_x = output.mean().item()
        noise = torch.randn(batch_size, nz, device=device)  # genlat's G takes (B, zn); the example's (B, nz, 1, 1)
        fake = self.net_g(noise)
        label.fill_(FAKE_LABEL)
        output = self.net_d(fake.detach())
        err_d_fake = self.criterion(output, label)
        err_d_fake.backward()
        d_g_z1 = output.mean().item()
        err_d = err_d_real + err_d_fake
        self.opt_d.step()
        # (2) Update G: maximize log(D(G(z)))
        self.net_g.zero_grad()
        label.fill_(REAL_LABEL)
        output = self.net_d(fake)
        err_g = self.criterion(output, label)
        err_g.backward()
        d_g_z2 = output.mean().item()
        self.opt_g.step()
        e_d, e_g = err_d.item(), err_g.item()
        print(
            f"[{i}] Loss_D: {e_d:.4f} Loss_G: {e_g:.4f} D(x): {d_x:.4f} D(G(z)): {d_g_z1:.4f} / {d_g_z2:.4f}",
            file=self.log,
        )
        self.errors.append((e_d, e_g))

    def run(self, steps: int) -> tuple[int, float]:
        """`steps` steps; returns (images, seconds). Every step already ended in a host read."""
        t0 = time.perf_counter()
        for i in range(steps):
            self.step(i)
        return steps * self.cfg.batch_size, time.perf_counter() - t0

    def close(self) -> None:
        self.log.close()
