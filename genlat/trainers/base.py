"""What every model family's trainer shares: the epoch loop, per-epoch noise, sampling the latent
bank, interpolation, and the state to resume from.

A family (trainers/gan.py: the GAN; trainers/vae.py: the VAE) supplies its networks (`networks`),
their optimizers (`_optimizers`), one optimisation step (`_step`) and which network maps z to images
(`decoder_of`). It declares the names of the per-step means `_step` returns (`STATS`), which two the
progress bar shows (`PROGRESS`), which row keys are columns of the epoch-series table (`SERIES`)
and which extra image grids it draws each epoch (`GRIDS`, via `extra_grids`); `genlat.run` writes
them as `epoch/<name>` and `train/<name>` without knowing the family. A family may add
interpolation methods (`interp_methods`) and per-epoch latent statistics (`latent_stats`).

The trainer holds no files and no tracker: `genlat.run` decides what is written and logged. The
same code runs on the CPU, one GPU or many (Accelerate wraps the models in DDP and handles mixed
precision).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from accelerate import Accelerator
from torch import nn

from genlat.grids import Grid
from genlat.inference import eval_batches
from genlat.latent import interpolation_paths, latent_bank
from genlat.models.dcgan import dcgan_init
from genlat.precision import resolve_channels_last
from genlat.seeds import derived_seed
from genlat.trainers.optim import unwrap


@dataclass
class EpochStats:
    means: dict[str, float] = field(default_factory=dict)  # the trainer's STATS, over steps and processes
    steps: int = 0
    images: int = 0  # over all processes
    seconds: float = 0.0
    preempted: bool = False

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in self.means.values())


class Trainer:
    STATS: tuple[str, ...] = ()  # names of what `_step` returns, in order
    PROGRESS: tuple[tuple[str, str], ...] = ()  # (label, stat) pairs the progress bar shows
    SERIES: tuple[str, ...] = ()  # metrics.jsonl keys (epoch/..., eval/...) that are epoch-series columns
    GRIDS: tuple[Grid, ...] = ()  # what `extra_grids` draws beside the sample grid (genlat.grids)

    def __init__(self, cfg, accelerator: Accelerator, source):
        self.cfg, self.accelerator, self.source = cfg, accelerator, source
        # --channels_last auto: on where it measured faster, for this device and precision (genlat.precision)
        self.channels_last = resolve_channels_last(
            cfg.channels_last, accelerator.device.type, accelerator.mixed_precision
        )
        self._layout = torch.channels_last if self.channels_last else torch.contiguous_format
        self.steps_per_epoch = source.steps_per_epoch(cfg.batch_size, accelerator.num_processes)
        nets = self.build_nets(cfg, source.channels)
        # Loaded into before `prepare` when resuming; the keys are the checkpoint's keys.
        self._raw = {**nets, **self._optimizers(nets)}
        self.parts = self._raw
        # The same bank on every rank: drawn on the CPU from the seed, then moved.
        self.bank = latent_bank(cfg.zn, cfg.n_samples, cfg.seed)
        self.begin_epoch(1)  # `step` works before the first epoch too (the benchmark counts its FLOPs)

    # --- what a family provides ---
    @staticmethod
    def networks(cfg, channels: int) -> dict[str, nn.Module]:
        """The family's networks by checkpoint key, before initialisation."""
        raise NotImplementedError

    @staticmethod
    def decoder_of(nets: dict[str, nn.Module]) -> nn.Module:
        """Which of `nets` (or which part of one) maps z (B, zn) to images (B, C, H, W)."""
        raise NotImplementedError

    def _optimizers(self, nets: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        """The optimizers of `nets`, by checkpoint key."""
        raise NotImplementedError

    def param_counts(self) -> dict[str, int]:
        """Recorded in config.json, e.g. {"g_params": ..., "d_params": ...}."""
        raise NotImplementedError

    def _step(self, real: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """One optimisation step on a batch; returns the detached STATS as a (len(STATS),) tensor."""
        raise NotImplementedError

    def _on_prepared(self) -> None:
        """Bind the prepared parts to attributes (self.g = self.parts["g"], ...)."""

    def extra_grids(self) -> dict[Grid, torch.Tensor]:
        """The GRIDS' (B, C, H, W) images beside the sample grid, drawn after every epoch."""
        return {}

    @property
    def interp_methods(self) -> list[str]:
        """The interpolation panels `interpolate` draws (the latent bank's, by default)."""
        return self.cfg.methods

    def latent_stats(self) -> dict:
        """eval/* entries about the latent space itself, after every epoch."""
        return {}

    def _for_step(self, module: nn.Module) -> nn.Module:
        """`module` as the training step calls it: compiled with --compile. Only the step uses the
        compiled callable; checkpoints and sampling keep the plain prepared module, so state_dict
        keys stay the same (and Accelerate's unwrap never touches a compiled wrapper)."""
        return torch.compile(module) if self.cfg.compile else module

    # --- shared ---
    @classmethod
    def build_nets(cls, cfg, channels: int) -> dict[str, nn.Module]:
        """The networks, initialised from `cfg.seed` so every rank starts equal."""
        torch.manual_seed(cfg.seed)
        nets = cls.networks(cfg, channels)
        for net in nets.values():
            net.apply(dcgan_init)
        return nets

    @property
    def decoder(self) -> nn.Module:
        """The prepared decoder without its DDP wrapper (mixed precision's autocast kept)."""
        return self.decoder_of(
            {k: unwrap(self.accelerator, p) for k, p in self.parts.items() if isinstance(p, nn.Module)}
        )

    def load_state(self, state: dict) -> None:
        for key, part in self._raw.items():
            part.load_state_dict(state[key])
        self._pending_scaler = state.get("scaler")
        if state.get("rng_cpu") is not None:
            torch.set_rng_state(state["rng_cpu"])

    def prepare(self) -> None:
        if self.channels_last:  # in place, before DDP wraps them; loading a state_dict keeps the layout
            for part in self._raw.values():
                if isinstance(part, nn.Module):
                    part.to(memory_format=torch.channels_last)
        if self.accelerator.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes every step: let cuDNN pick its fastest kernels
        prepared = self.accelerator.prepare(*self._raw.values())
        prepared = prepared if len(self._raw) > 1 else (prepared,)  # prepare() unpacks a single object
        self.parts = dict(zip(self._raw, prepared))
        self._on_prepared()
        scaler = getattr(self, "_pending_scaler", None)
        if scaler and self.accelerator.scaler is not None:
            self.accelerator.scaler.load_state_dict(scaler)

    def state_dict(self) -> dict:
        scaler = self.accelerator.scaler
        state = {
            key: (unwrap(self.accelerator, part) if isinstance(part, nn.Module) else part).state_dict()
            for key, part in self.parts.items()
        }
        state["scaler"] = scaler.state_dict() if scaler is not None else None
        state["rng_cpu"] = torch.get_rng_state()
        return state

    def train_steps(self, epoch: int, batches: Iterator[torch.Tensor]) -> Iterator[tuple[int, torch.Tensor]]:
        """One epoch's optimisation steps over `batches`, yielding (step, running STATS sums) after each.
        The sums stay on the device: reading them (a host sync) is the caller's choice, every few
        steps; stopping early is the caller's too (it stops iterating)."""
        self.begin_epoch(epoch)
        sums = torch.zeros(len(self.STATS), device=self.accelerator.device)
        for step, real in enumerate(batches, start=1):
            sums += self.step(real)
            yield step, sums

    def begin_epoch(self, epoch: int) -> None:
        """Train mode, and this epoch's noise (GAN: z, VAE: the reparameterisation's eps) from its own
        seed for this epoch and rank: an epoch replays exactly after a resume."""
        for part in self.parts.values():
            if isinstance(part, nn.Module):
                part.train()
        seed = derived_seed(self.cfg.seed, "z", epoch, self.accelerator.process_index)
        self._z_gen = torch.Generator(device=self.accelerator.device).manual_seed(seed)

    def step(self, real: torch.Tensor) -> torch.Tensor:
        """One optimisation step on a batch of real images, with the epoch's next noise; returns the
        detached STATS as a (len(STATS),) tensor on the device."""
        real = real.contiguous(memory_format=self._layout)  # a no-op unless channels-last
        noise = torch.randn(real.shape[0], self.cfg.zn, generator=self._z_gen, device=self.accelerator.device)
        return self._step(real, noise)

    def epoch_stats(self, sums: torch.Tensor, steps: int, t0: float) -> EpochStats:
        """The epoch's STATS means over its `steps` steps and every process; seconds since `t0`, taken
        when the device has finished."""
        acc = self.accelerator
        if acc.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        mean = acc.reduce(sums, reduction="mean") / max(steps, 1)
        images = steps * self.cfg.batch_size * acc.num_processes
        return EpochStats(dict(zip(self.STATS, mean.tolist())), steps, images, seconds)

    def generate(self, z: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """decoder(z) in eval mode on this process alone (the unwrapped model: no DDP collectives), in
        float32 whatever the training precision: the class's own forward, not the autocast one Accelerate
        patches onto the instance. Grids, panels and evaluation are then a function of the weights alone
        (`genlat eval` of the checkpoint gives the same numbers)."""
        net = self.decoder
        forward = type(net).forward
        return eval_batches(net, z, batch, self.accelerator.device, fn=lambda chunk: forward(net, chunk))

    def sample_bank(self) -> torch.Tensor:
        return self.generate(self.bank)  # (n_samples, C, H, W)

    def interpolate(self, method: str) -> torch.Tensor:
        """(pairs, steps, C, H, W): each row walks from one bank vector to the next."""
        paths = interpolation_paths(self.bank, self.cfg.interp_pairs, self.cfg.interp_steps, method)
        pairs, steps = paths.shape[:2]
        images = self.generate(paths.reshape(pairs * steps, -1))
        return images.reshape(pairs, steps, *images.shape[1:])
