"""The metric registry: every key a run logs (metrics.jsonl lines, W&B history), registered once with
what it means: its human name, which way is better, its unit, its role, where the report shows it and
which datasets and model families log it. The report (names, directions, which numbers lead, which are
tested, which are never a measure of the generator), the W&B Report, the tracker (the epoch-series
table's columns, each key's x-axis) and the measurement stamp look a key up here; none spells it out.
Adding a metric is one entry below plus its compute function (genlat/metrics/evaluate.py).

A key that is not registered still shows in the report under its own text, with no better side.
Standard library only: `genlat sweep --status` and `genlat report` import it without torch."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# Which way is better: LOWER, HIGHER, or None (no side is: a ratio to a target, a count that grows with zn).
LOWER, HIGHER = "lower", "higher"

# Roles: what kind of number a key is.
QUALITY = "quality"  # how close generated images are to real ones: a generator's headline numbers
CLAIM = "claim"  # the measure one of the study's claims is tested by (Q1a-c, Q3)
LATENT = "latent"  # how the image changes along a walk in z (smoothness, evenness)
STATISTIC = "statistic"  # a breakdown or spread of another number, or a statistic of the model: shown, never ranked
TRAINING = "training"  # what training itself reports per epoch (losses, the discriminator's outputs)
BOOKKEEPING = "bookkeeping"  # timings, counts, throughput: about the run, never a measure of the generator
STAMP = "stamp"  # what makes two evaluations comparable: compared, never shown as a measure

SHAPES = ("shapes",)  # needs the shapes' ground-truth factors (one object per image, its class)
GAN, VAE = ("dcgan",), ("vae",)


@dataclass(frozen=True)
class Metric:
    key: str  # the metrics.jsonl and W&B key; for a family, the prefix its members share
    name: str  # what the report calls it; a family's member name follows it (the method, the factor)
    better: str | None = None  # LOWER, HIGHER or None
    role: str = STATISTIC
    unit: str = ""
    datasets: tuple[str, ...] | None = None  # None: every dataset logs it
    families: tuple[str, ...] | None = None  # None: every model family (--model) logs it
    first: bool = False  # listed before every other key (report tables and figures), in this file's order
    headline: bool = False  # its differences between settings are tested against seed noise (Q1's findings)
    plotted: tuple[str, ...] = ()  # the questions whose metric panels plot it: q1 against zn, q2 against epoch, q3
    series: bool = False  # a column of the W&B epoch-series table (genlat/tracking.py)
    floor: float | None = None  # the lowest value it can take (a distance, a count: 0); shares are 0 to 1 anyway

    @property
    def direction(self) -> str | None:
        """'min' when lower is better, 'max' when higher is, None when no side is."""
        return {LOWER: "min", HIGHER: "max"}.get(self.better)

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The range its values can take, (lowest, highest), None where open: a figure's interval stops there."""
        return (0.0, 1.0) if self.unit == "share" else (self.floor, None)

    @property
    def titled(self) -> str:
        """The name with the better side, e.g. 'Fréchet distance (lower is better)'."""
        return self.name + {LOWER: " (lower is better)", HIGHER: " (higher is better)"}.get(self.better, "")

    def member(self, rest: str, **fields) -> Metric:
        """A family's member: `rest` is what follows the prefix (a method, a factor)."""
        return replace(self, key=self.key + rest, name=self.name + rest.replace("_", " "), **fields)


# Families: keys with a shared prefix; the rest of the key names the member.
INTERP_CV = Metric(
    "eval/interp_cv_", "unevenness of the morph (step-size CV), ", LOWER, LATENT, plotted=("q3",), floor=0.0
)
FAMILIES = (
    INTERP_CV,
    Metric("eval/interp_peak_", "largest morph step against the mean, ", LOWER, LATENT, "× the mean step"),
    Metric("eval/interp_znorm_", "norm of the interpolated z against the prior's, ", None, STATISTIC, "× the prior's"),
    Metric("eval/coverage_kl_", "factor coverage gap (KL), ", LOWER, STATISTIC, "nats", SHAPES),
    Metric("eval/shape_share_", "shape share ", None, STATISTIC, "share", SHAPES),
    Metric("eval/feature_acc_", "feature net's held-out accuracy, ", None, BOOKKEEPING, "share"),
)

OVERVIEW = ("q1", "q2")  # plotted against zn (Q1) and against epoch (Q2)
METRICS = (
    # The quality of the generator, then the claims' measures, in the order the report lists them.
    Metric(
        "eval/fd",
        "Fréchet distance",
        LOWER,
        QUALITY,
        first=True,
        headline=True,
        plotted=OVERVIEW,
        series=True,
        floor=0.0,
    ),
    Metric("eval/kid", "kernel inception distance", LOWER, QUALITY, first=True, plotted=OVERVIEW, series=True),
    Metric(
        "eval/precision",
        "precision",
        HIGHER,
        QUALITY,
        "share",
        first=True,
        headline=True,
        plotted=OVERVIEW,
        series=True,
    ),
    Metric("eval/recall", "recall", HIGHER, QUALITY, "share", first=True, headline=True, plotted=OVERVIEW, series=True),
    Metric(
        "eval/ppl",
        "perceptual path length",
        LOWER,
        LATENT,
        first=True,
        plotted=(*OVERVIEW, "q3"),
        series=True,
        floor=0.0,
    ),
    Metric(
        "eval/coverage_kl_mean",
        "factor coverage gap (KL)",
        LOWER,
        QUALITY,
        "nats",
        SHAPES,
        first=True,
        plotted=OVERVIEW,
    ),
    Metric(
        "eval/detail_hf_ratio",
        "fine detail against real (1 = like real)",
        None,
        CLAIM,
        "× real",
        headline=True,
        floor=0.0,
    ),
    Metric("eval/fragmented_share", "share of images in 2+ pieces", None, CLAIM, "share", SHAPES, headline=True),
    Metric(
        "eval/jacobian_dims90",
        "used latent directions (90 % of the Jacobian's energy)",
        None,
        CLAIM,
        "directions",
        headline=True,
    ),
    Metric(
        "eval/jacobian_pr", "used latent directions (participation ratio)", None, CLAIM, "directions", headline=True
    ),
    # not better when higher: active units grow with zn by themselves (Q1c says it as a share of zn)
    Metric(
        "eval/active_units",
        "active latent units",
        None,
        CLAIM,
        "units",
        families=VAE,
        first=True,
        headline=True,
        plotted=OVERVIEW,
    ),
    Metric(
        "eval/class_flips_slerp",
        "shape changes along a slerp path",
        None,
        CLAIM,
        "changes per path",
        SHAPES,
        headline=True,
        floor=0.0,
    ),
    Metric(
        "eval/class_flips_lerp",
        "shape changes along a lerp path",
        None,
        CLAIM,
        "changes per path",
        SHAPES,
        headline=True,
        floor=0.0,
    ),
    INTERP_CV.member("slerp", first=True, headline=True),
    INTERP_CV.member("lerp", first=True, headline=True),
    Metric("eval/fragments_mean", "pieces per image", None, STATISTIC, "pieces", SHAPES),
    Metric("eval/kid_std", "kid std", None, STATISTIC),  # the KID's spread over its subsets
    Metric("eval/kl", "kl", None, STATISTIC, "nats", families=VAE),  # over the fixed real images
    Metric("eval/kl_per_dim", "kl per dim", None, STATISTIC, "nats", families=VAE),  # lists: W&B histograms
    Metric("eval/mu_var_per_dim", "mu var per dim", None, STATISTIC, families=VAE),
    # The measurement stamp, in this order (analysis/load/stamps.py).
    Metric("eval/feature_space", "feature space", role=STAMP),
    Metric("eval/samples", "samples", role=STAMP, unit="images"),
    Metric("eval/metric_version", "metric version", role=STAMP),
    # The evaluation's cost.
    Metric("eval/seconds", "seconds", role=BOOKKEEPING, unit="s"),
    Metric("eval/claims_seconds", "claims seconds", role=BOOKKEEPING, unit="s"),  # the claims' measures alone
    Metric(
        "eval/setup_seconds", "setup seconds", role=BOOKKEEPING, unit="s"
    ),  # W&B summary: feature net and real statistics
    Metric(
        "eval/feature_train_seconds", "feature train seconds", role=BOOKKEEPING, unit="s"
    ),  # summary: a net trained here
    # Training, per epoch: the curves the report plots over epochs (GAN, then VAE), then the rest.
    Metric("epoch/loss_g", "generator loss", role=TRAINING, families=GAN, plotted=("q2",)),
    Metric("epoch/loss_d", "discriminator loss", role=TRAINING, families=GAN, plotted=("q2",)),
    Metric("epoch/loss", "training loss", role=TRAINING, families=VAE, plotted=("q2",)),
    Metric("epoch/recon", "reconstruction error", LOWER, TRAINING, families=VAE, plotted=("q2",)),
    Metric("epoch/kl", "KL term", None, TRAINING, "nats", families=VAE, plotted=("q2",)),
    Metric("epoch/d_real", "d real", None, TRAINING, "probability", families=GAN),  # D's output on real images
    Metric("epoch/d_fake", "d fake", None, TRAINING, "probability", families=GAN),
    Metric("epoch/bank_spread", "bank spread", None, STATISTIC),  # the sample grid's spread (the collapse rule)
    Metric("epoch/images", "images", role=BOOKKEEPING, unit="images"),
    Metric("epoch/steps", "steps", role=BOOKKEEPING, unit="steps"),
    Metric("epoch/images_per_s", "images per s", role=BOOKKEEPING, unit="images/s"),
    Metric("epoch/train_seconds", "train seconds", role=BOOKKEEPING, unit="s"),
    Metric("epoch/write_seconds", "write seconds", role=BOOKKEEPING, unit="s"),
)
_BY_KEY = {m.key: m for m in METRICS}

# Each key's x-axis on W&B (the tracker's define_metric): its prefix says which.
STEP_METRICS = (("train/*", "train/step"), ("epoch/*", "epoch"), ("eval/*", "epoch"))
STAMP_KEYS = tuple(m.key for m in METRICS if m.role == STAMP)
SERIES_KEYS = tuple(m.key for m in METRICS if m.series)  # the epoch-series table's metric columns, in order


def step_metric(key: str) -> str:
    """The x-axis W&B plots `key` against: its prefix's (train/step for train/*), else the epoch."""
    return next((step for pattern, step in STEP_METRICS if key.startswith(pattern[:-1])), "epoch")


def lookup(key: str) -> Metric | None:
    """The key's entry (its own, or its family's member), or None when it is not registered."""
    if key in _BY_KEY:
        return _BY_KEY[key]
    family = next((f for f in FAMILIES if key.startswith(f.key)), None)
    return family.member(key[len(family.key) :]) if family else None


def metric(key: str) -> Metric:
    """The key's entry; an unregistered key still shows: under its own text, no better side, never ranked."""
    return lookup(key) or Metric(key, re.sub(r"^(eval|epoch|train)/", "", key).replace("_", " "))


def name(key: str) -> str:
    return metric(key).name


def titled(key: str) -> str:
    return metric(key).titled


def bounds(key: str) -> tuple[float | None, float | None]:
    return metric(key).bounds


def direction(key: str) -> str | None:
    return metric(key).direction


def is_measure(key: str) -> bool:
    """A number about the generator or its training; not bookkeeping (timings, counts) and not the stamp."""
    return metric(key).role not in (BOOKKEEPING, STAMP)


def ordered(keys) -> list[str]:
    """Keys as the report lists them: the registry's `first` ones in its order, then the others by name."""
    found = set(keys)
    first = [m.key for m in METRICS if m.first and m.key in found]
    return first + sorted(found - set(first))


def in_order(role: str) -> tuple[str, ...]:
    """The registered keys of one role, in this file's order."""
    return tuple(m.key for m in METRICS if m.role == role)
