"""The GAN trainer: a DCGAN's networks, optimizers and training step (the loop is trainers/base.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlat.models import count_parameters
from genlat.models.dcgan import Discriminator, Generator
from genlat.seeds import derived_seed
from genlat.trainers.base import Trainer
from genlat.trainers.optim import Adam, unwrap


class GANTrainer(Trainer):
    STATS = ("loss_d", "loss_g", "d_real", "d_fake")  # d_real/d_fake: mean D probability on real/generated
    PROGRESS = (("D", "loss_d"), ("G", "loss_g"))
    SERIES = ("epoch/loss_d", "epoch/loss_g")

    @staticmethod
    def networks(cfg, channels: int) -> dict:
        return {
            "g": Generator(cfg.zn, channels, cfg.image_size, cfg.ngf),
            "d": Discriminator(channels, cfg.image_size, cfg.ndf),
        }

    @staticmethod
    def decoder_of(nets: dict):
        return nets["g"]

    def _optimizers(self, nets: dict) -> dict:
        # fused: one kernel for all parameters on a GPU. On the CPU too it would take a sixth of the
        # loop's time (2.7 against 17 ms a 32 px step here, 2-3 % of the step), but it rounds in
        # another order, and a 3-seed parity run of the main job's zn = 100 trials did not show the
        # same quality clearly enough (README, Speed): the CPU keeps torch's default loop.
        adam = dict(lr=self.cfg.lr, betas=(self.cfg.beta1, 0.999), fused=self.accelerator.device.type == "cuda" or None)
        return {"opt_g": Adam(nets["g"].parameters(), **adam), "opt_d": Adam(nets["d"].parameters(), **adam)}

    def _on_prepared(self) -> None:
        self.g, self.d, self.opt_g, self.opt_d = (self.parts[k] for k in ("g", "d", "opt_g", "opt_d"))
        # G's step needs gradients through D's input, not D's weights. It calls D without its DDP
        # wrapper (Accelerate's autocast kept) and back-propagates into G's weights alone: D's weight
        # gradients are never computed, and D's DDP reducer, which expects a gradient for every
        # parameter after a forward through the wrapper, never sees this pass.
        d_plain = unwrap(self.accelerator, self.d)  # the prepared parts are never compiled (see _for_step)
        self.g_weights = list(self.g.parameters())
        self.g_step, self.d_step, self.d_for_g = (self._for_step(m) for m in (self.g, self.d, d_plain))

    def param_counts(self) -> dict[str, int]:
        return {"g_params": count_parameters(self._raw["g"]), "d_params": count_parameters(self._raw["d"])}

    def begin_epoch(self, epoch: int) -> None:
        super().begin_epoch(epoch)
        # The noise shrinks linearly with the images trained on before this epoch, reaching 0 after
        # --instance_noise_images; a schedule of images, not of --epochs, so extending a run changes
        # nothing already trained. It comes from the epoch's own seed, like z: a resumed epoch replays exactly.
        seen = (epoch - 1) * self.steps_per_epoch * self.cfg.batch_size * self.accelerator.num_processes
        self._sigma = self.cfg.instance_noise * max(0.0, 1 - seen / self.cfg.instance_noise_images)
        seed = derived_seed(self.cfg.seed, "instance_noise", epoch, self.accelerator.process_index)
        self._noise_gen = torch.Generator(device=self.accelerator.device).manual_seed(seed)

    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        """D's input plus instance noise (Sønderby et al. 2016; Arjovsky & Bottou 2017): real shapes are
        binary and sparse, so without it D separates real from generated at once and G learns slowly."""
        if not self._sigma:
            return x
        return x + self._sigma * torch.randn(x.shape, generator=self._noise_gen, device=x.device, dtype=x.dtype)

    def _step(self, real: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The DCGAN step (non-saturating loss). Returns detached [loss_d, loss_g, D(x), D(G(z))]."""
        acc = self.accelerator
        real, fake = self._noisy(real), self._noisy(self.g_step(z))
        # D: real -> 1 - label_smoothing (one-sided, Salimans et al. 2016), fake -> 0 (the fake is
        # detached: this step does not train G)
        real_logits = self.d_step(real)
        fake_logits = self.d_step(fake.detach())
        real_target = torch.full_like(real_logits, 1 - self.cfg.label_smoothing, dtype=torch.float)
        loss_d = F.binary_cross_entropy_with_logits(
            real_logits.float(), real_target
        ) + F.binary_cross_entropy_with_logits(fake_logits.float(), torch.zeros_like(fake_logits, dtype=torch.float))
        self.opt_d.zero_grad(set_to_none=True)
        acc.backward(loss_d)
        self.opt_d.step()
        # G: make D call the fake real (gradients for G's weights only, see _on_prepared)
        gen_logits = self.d_for_g(fake)
        loss_g = F.binary_cross_entropy_with_logits(gen_logits.float(), torch.ones_like(gen_logits, dtype=torch.float))
        self.opt_g.zero_grad(set_to_none=True)
        acc.backward(loss_g, inputs=self.g_weights)
        self.opt_g.step()
        with torch.no_grad():
            return torch.stack(
                [loss_d, loss_g, torch.sigmoid(real_logits.float()).mean(), torch.sigmoid(fake_logits.float()).mean()]
            ).detach()
