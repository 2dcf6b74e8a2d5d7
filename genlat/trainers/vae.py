"""The VAE trainer: the ELBO step, reconstructions of fixed real images, interpolation between their
encodings, and the latent statistics of each epoch (KL per dimension, active units).

The loop, per-epoch noise (here the reparameterisation's eps), sampling the latent bank and resume
are trainers/base.py's, exactly as for the GAN. The fixed real images are held-out images chosen
by the data source (`ImageSource.held_out`), the same in every epoch and every run with
that seed, so the epoch series of reconstructions and real-image panels are comparable.
"""

from __future__ import annotations

import functools

import torch
from accelerate import Accelerator
from einops import rearrange

from genlat.grids import RECONSTRUCTIONS, Grid
from genlat.inference import eval_batches
from genlat.latent import INTERPOLATORS
from genlat.models import count_parameters
from genlat.models.vae import VAE, active_units, bernoulli_nll, kl_per_dim
from genlat.trainers.base import Trainer
from genlat.trainers.optim import Adam, unwrap

REAL_SUFFIX = "-real"  # "slerp-real": interpolation between the posterior means of two real images
LATENT_STAT_IMAGES = 1000  # real images behind eval/kl_per_dim and eval/active_units
ACTIVE_THRESHOLD = 0.01  # Burda et al.'s threshold on Cov_x(E_q[z|x])


class VAETrainer(Trainer):
    STATS = ("loss", "recon", "kl")  # per image: loss = recon + beta * kl (the negative beta-ELBO)
    PROGRESS = (("recon", "recon"), ("kl", "kl"))
    SERIES = ("epoch/loss", "epoch/recon", "epoch/kl", "eval/active_units")
    GRIDS = (RECONSTRUCTIONS,)

    def __init__(self, cfg, accelerator: Accelerator, source):
        super().__init__(cfg, accelerator, source)
        # The reconstruction grid: whole rows of real images, each followed by its reconstruction row.
        self.n_recon = max(cfg.grid_nrow, (cfg.n_samples // 2) // cfg.grid_nrow * cfg.grid_nrow)

    @functools.cached_property
    def real(self) -> torch.Tensor:
        """The fixed real images (N, C, H, W) in [-1, 1]: held out from training where the dataset
        allows; loaded on first use (the main process draws, the other ranks never need them)."""
        n = max(LATENT_STAT_IMAGES, self.n_recon, 2 * self.cfg.interp_pairs)
        return self.source.held_out(n)

    @staticmethod
    def networks(cfg, channels: int) -> dict:
        return {"vae": VAE(cfg.zn, channels, cfg.image_size, cfg.ngf, cfg.ndf)}

    @staticmethod
    def decoder_of(nets: dict):
        return nets["vae"].decoder

    def _optimizers(self, nets: dict) -> dict:
        return {"opt": Adam(nets["vae"].parameters(), lr=self.cfg.lr, betas=(self.cfg.beta1, 0.999))}

    def _on_prepared(self) -> None:
        self.vae, self.opt = self.parts["vae"], self.parts["opt"]
        self.vae_step = self._for_step(self.vae)  # compiled with --compile

    def param_counts(self) -> dict[str, int]:
        vae = self._raw["vae"]
        return {"g_params": count_parameters(vae.decoder), "e_params": count_parameters(vae.encoder)}

    def _step(self, real: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """One Adam step on the negative beta-ELBO (Higgins et al. 2017), averaged over the batch.
        Returns detached [loss, recon, kl] per image (nats)."""
        mu, logvar, logits = self.vae_step(real, eps)
        recon = bernoulli_nll(logits, real).mean()
        kl = kl_per_dim(mu, logvar).sum(1).mean()
        loss = recon + self.cfg.beta * kl
        self.opt.zero_grad(set_to_none=True)
        self.accelerator.backward(loss)
        self.opt.step()
        return torch.stack([loss, recon, kl]).detach()

    # --- encodings of the fixed real images (eval mode, this process alone) ---
    def encode(self, images: torch.Tensor, batch: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means and log-variances (N, zn) of images (N, C, H, W), on the CPU."""
        enc = unwrap(self.accelerator, self.vae).encoder
        return eval_batches(enc, images, batch, self.accelerator.device)

    def extra_grids(self) -> dict[Grid, torch.Tensor]:
        """{"reconstruction": (2 * n_recon, C, H, W)}: rows of real images alternating with the rows of
        their reconstructions, decoder(posterior mean)."""
        real = self.real[: self.n_recon]
        recon = self.generate(self.encode(real)[0])
        rows = rearrange(torch.stack([real, recon]), "two (r n) c h w -> (r two n) c h w", n=self.cfg.grid_nrow)
        return {RECONSTRUCTIONS: rows}

    @property
    def interp_methods(self) -> list[str]:
        return self.cfg.methods + [m + REAL_SUFFIX for m in self.cfg.methods]

    def interpolate(self, method: str) -> torch.Tensor:
        """Bank methods as for the GAN; "<method>-real" walks between the posterior means of real
        images 2k and 2k+1 of the fixed set: (pairs, steps, C, H, W)."""
        if not method.endswith(REAL_SUFFIX):
            return super().interpolate(method)
        pairs, steps = self.cfg.interp_pairs, self.cfg.interp_steps
        mu = self.encode(self.real[: 2 * pairs])[0]
        t = torch.linspace(0, 1, steps)
        paths = INTERPOLATORS[method.removesuffix(REAL_SUFFIX)](mu[0::2], mu[1::2], t)  # (pairs, steps, zn)
        images = self.generate(rearrange(paths, "p t z -> (p t) z"))
        return rearrange(images, "(p t) c h w -> p t c h w", p=pairs)

    def latent_stats(self) -> dict:
        """The epoch's latent statistics over the fixed real images, as eval/* keys."""
        mu, logvar = self.encode(self.real[:LATENT_STAT_IMAGES])
        per_dim = kl_per_dim(mu, logvar).mean(0)  # (zn,), mean over images
        # The quantity active units threshold, per dimension: a report can read the spectrum's elbow
        # or count at another threshold (short trainings leave unused dims just above 0.01).
        mu_var = mu.var(dim=0)
        return {
            "eval/active_units": active_units(mu, ACTIVE_THRESHOLD),
            "eval/kl": float(per_dim.sum()),
            "eval/kl_per_dim": [round(v, 6) for v in per_dim.tolist()],
            "eval/mu_var_per_dim": [round(v, 6) for v in mu_var.tolist()],
        }
