"""`Evaluator`: the per-epoch evaluation. Built once per run on the main process (feature space,
real-image statistics, the fixed evaluation z), then called with a `generate(z) -> images`
function (and, for the latent-usage numbers, the decoder module itself: they need its Jacobian);
returns a flat dict whose keys are the W&B keys (`eval/fd`, `eval/kid`, ...).

Real images: the source's `held_out(n)` (for shapes, indices >= epoch_size rendered exactly like
training batches; for file datasets, the items outside the epoch's subset when there are enough).
The evaluation z (and PPL's pairs) come from the run's seed, so every epoch sees the same z.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from genlat.latent import latent_bank
from genlat.metrics import METRIC_VERSION
from genlat.metrics.coverage import factor_coverage
from genlat.metrics.detail import detail_ratio, high_frequency_share
from genlat.metrics.features import FeatureSpace, inception_feature_space, inception_weights, rotation_feature_space
from genlat.metrics.fragments import fragmentation
from genlat.metrics.jacobian import jacobian_points, latent_usage
from genlat.metrics.quality import QualityMetrics
from genlat.metrics.reference_nets import shapes_feature_space, verified_bytes
from genlat.metrics.smoothness import interpolation_smoothness, perceptual_path_length
from genlat.seeds import derived_seed

SMOOTH_ROWS = 16  # interpolation rows for step evenness: the panels' pairs first, then more from the bank


def check_feature_net(cfg, source) -> None:
    """Refuse a damaged shipped net (exit 3) before a run creates anything; cheap (a hash)."""
    if source.has_factors and cfg.eval_every and cfg.eval_samples:
        verified_bytes(cfg.image_size)


def build_feature_space(cfg, source, log: Callable[[str], None] = print) -> FeatureSpace:
    if source.has_factors:
        return shapes_feature_space(cfg.image_size)  # shipped and verified, never trained here
    weights = inception_weights(cfg.eval_inception)
    if weights is not None:
        return inception_feature_space(weights)
    dataset_id = {
        "dataset": cfg.dataset,
        "image_size": cfg.image_size,
        "channels": source.channels,
        "items": len(source.dataset),
    }
    return rotation_feature_space(dataset_id, source.spread(cfg.eval_feature_images), log=log)


class Evaluator:
    def __init__(self, cfg, source, device=None, samples: int | None = None, log: Callable[[str], None] = print):
        self.cfg = cfg
        self.n = samples or cfg.eval_samples
        t0 = time.perf_counter()
        self.space = build_feature_space(cfg, source, log)
        # float32 convolutions give bitwise the same features at 1 and 2 threads on this CPU (tested);
        # float64 nets cost 2.7x the evaluation time, so only the statistics run in float64
        self.space.net.to(device or "cpu")
        real = source.held_out(self.n)
        self.real = self.space.features(real)  # (n, dim), once per run
        self.real_hf_share = high_frequency_share(real)
        self.shapes = source.has_factors  # fragments and class flips need one object per image
        self.quality = QualityMetrics(self.real, seed=cfg.seed)
        gen = torch.Generator().manual_seed(derived_seed(cfg.seed, "eval"))
        self.z = torch.randn(self.n, cfg.zn, generator=gen)  # the same z at every epoch
        self.ppl_pairs = max(self.n // 2, 8)
        self.bank = latent_bank(cfg.zn, 2 * max(SMOOTH_ROWS, cfg.interp_pairs), cfg.seed)
        self.setup_seconds = time.perf_counter() - t0

    def stamp(self) -> dict:
        """What makes these numbers comparable with another run's (genlat.metrics.registry.STAMP_KEYS)."""
        return {"eval/feature_space": self.space.name, "eval/samples": self.n, "eval/metric_version": METRIC_VERSION}

    def summary(self) -> dict:
        """What describes the feature space itself: for the W&B summary and `genlat eval`."""
        out = self.stamp()
        for k, v in self.space.info.get("heldout_accuracy", {}).items():
            out[f"eval/feature_acc_{k}"] = round(v, 4)
        if "train_seconds" in self.space.info:
            out["eval/feature_train_seconds"] = self.space.info["train_seconds"]
        out["eval/setup_seconds"] = round(self.setup_seconds, 1)  # feature net (training or cache) + real stats
        return out

    def _features_and_shapes(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features (N, dim) and, in a space that predicts factors, the predicted shape (N,): one pass."""
        if not self.space.predicts_factors:
            return self.space.features(images), None
        feats, factors = self.space.features_and_factors(images)
        return feats, factors[:, 0]

    def claims(self, fake: torch.Tensor, decoder: torch.nn.Module | None) -> dict:
        """The study's claims' own measures (detail, fragments, latent usage); class flips ride on
        the interpolation rows."""
        values = {"detail_hf_ratio": detail_ratio(fake, self.real_hf_share)}
        if self.shapes:
            values.update(fragmentation(fake))
        if decoder is not None:
            values.update(latent_usage(decoder, self.bank[: jacobian_points(self.cfg.zn, len(self.bank))]))
        return values

    @torch.no_grad()
    def __call__(
        self,
        generate: Callable[[torch.Tensor], torch.Tensor],
        decoder: torch.nn.Module | None = None,
        full: bool = True,
    ) -> dict:
        """`decoder`: the module behind `generate` (unwrapped), for the Jacobian; without it no eval/jacobian_*.
        `full`: also the path and claim measures (PPL, interpolation, detail, fragments, latent usage);
        without it only the sample measures (FD, KID, precision, recall, coverage), a third of the cost."""
        t0 = time.perf_counter()
        fake = generate(self.z)  # (n, C, H, W)
        if self.space.predicts_factors:
            feats, classes = self.space.features_and_factors(fake)
            values = {**self.quality(feats), **factor_coverage(classes)}
        else:
            values = self.quality(self.space.features(fake))
        if full:
            values.update(self._paths_and_claims(generate, decoder, fake))
        row = self.stamp()
        row.update({f"eval/{k}": v for k, v in values.items()})
        row["eval/seconds"] = round(time.perf_counter() - t0, 3)
        return row

    def _paths_and_claims(self, generate: Callable, decoder: torch.nn.Module | None, fake: torch.Tensor) -> dict:
        values = {}
        values["ppl"] = perceptual_path_length(
            generate, self.space.features, self.cfg.zn, self.ppl_pairs, derived_seed(self.cfg.seed, "ppl")
        )
        values.update(
            interpolation_smoothness(
                generate,
                self.space.features,
                self.bank,
                self.cfg.interp_steps,
                self.cfg.methods,
                features_and_classes=self._features_and_shapes,
            )
        )
        t1 = time.perf_counter()
        values.update(self.claims(fake, decoder))
        values["claims_seconds"] = round(time.perf_counter() - t1, 3)
        return values
