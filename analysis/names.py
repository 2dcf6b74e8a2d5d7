"""Human names for metric keys: the report says "Fréchet distance (lower is better)" and keeps the key
in small print. A key without a name here falls back to its own text, so new metrics still show."""

from __future__ import annotations

import re

NAMES = {
    "eval/fd": "Fréchet distance",
    "eval/kid": "kernel inception distance",
    "eval/precision": "precision",
    "eval/recall": "recall",
    "eval/ppl": "perceptual path length",
    "eval/coverage_kl_mean": "factor coverage gap (KL)",
    "eval/active_units": "active latent units",
    "eval/jacobian_dims90": "used latent directions (90 % of the Jacobian's energy)",
    "eval/jacobian_pr": "used latent directions (participation ratio)",
    "eval/fragments_mean": "pieces per image",
    "eval/fragmented_share": "share of images in 2+ pieces",
    "eval/detail_hf_ratio": "fine detail against real (1 = like real)",
    "eval/class_flips_slerp": "shape changes along a slerp path",
    "eval/class_flips_lerp": "shape changes along a lerp path",
    "epoch/loss_g": "generator loss",
    "epoch/loss_d": "discriminator loss",
    "epoch/loss": "training loss",
    "epoch/recon": "reconstruction error",
    "epoch/kl": "KL term",
}
_FAMILIES = (  # key prefix -> name prefix; the rest of the key (the method) follows
    ("eval/interp_cv_", "unevenness of the morph (step-size CV), "),
    ("eval/interp_peak_", "largest morph step against the mean, "),
    ("eval/interp_znorm_", "norm of the interpolated z against the prior's, "),
    ("eval/coverage_kl_", "factor coverage gap (KL), "),
    ("eval/feature_acc_", "feature net's held-out accuracy, "),
)


def name(key: str) -> str:
    """The plain name, e.g. 'Fréchet distance'."""
    if key in NAMES:
        return NAMES[key]
    for prefix, text in _FAMILIES:
        if key.startswith(prefix):
            return text + key[len(prefix) :].replace("_", " ")
    return re.sub(r"^(eval|epoch|train)/", "", key).replace("_", " ")


def titled(key: str, way: str | None) -> str:
    """The name with which way is better, e.g. 'Fréchet distance (lower is better)'."""
    return name(key) + {"min": " (lower is better)", "max": " (higher is better)"}.get(way, "")
