"""Every hyperparameter of a run, in one dataclass, with its default, help and check.

The command-line flags are exactly the field names (`--zn 100` or `--zn=100`), because that is how
`wandb agent` renders sweep parameters. The CLI (genlat.cli.parse_args, which turns the fields into
flags), the sweep runner and the tests all build a `TrainConfig` through `TrainConfig.from_dict`, so a
bad value is refused here, once, with a message that names the flag.
"""

from __future__ import annotations

import dataclasses
import math
import os
import reprlib
from dataclasses import dataclass, field
from typing import Any

from genlat.cli_args import user_path
from genlat.errors import ConfigError, OutputError
from genlat.ids import agent_run_id
from genlat.models import MODELS
from genlat.models.widths import IMAGE_SIZES, discriminator_layers, generator_layers

DATASETS = ("shapes", "mnist", "fashion-mnist", "cifar10", "celeba")  # plus "folder:PATH"
PRECISIONS = ("auto", "no", "fp16", "bf16")
SWITCHES = ("auto", "true", "false")
INTERP_METHODS = ("slerp", "lerp")
NAME_MAX = 255  # bytes in one path component on Linux and macOS file systems (ENAMETOOLONG beyond)
WANDB_FORBIDDEN = "/\\#?%:"
MAX_EPOCHS = 100_000  # also bounds the epoch counters (every N epochs, checkpoints kept, collapse window)
BYTES_PER_PARAM = 16  # fp32 weight, gradient and Adam's two moments
FEATURE_DIMS = 64  # fewer than any evaluation feature space has (a lower bound for the memory estimate)


def _positive_int(v):
    return None if v >= 1 else "must be a positive integer"


def _at_most(limit, check, unit=""):
    """`check`, then an upper bound: a value past any sane setting (an overflow in Adam, an epoch loop
    that never ends) is refused here, not met deep inside torch. Sizes are bounded by memory instead."""

    def bounded(v):
        return check(v) or (None if v <= limit else f"must be at most {limit:g}{unit}")

    return bounded


def _non_negative_int(v):
    return None if v >= 0 else "must be 0 or a positive integer"


def _positive_finite(v):
    return None if math.isfinite(v) and v > 0 else "must be a positive finite number"


def _non_negative_finite(v):
    return None if math.isfinite(v) and v >= 0 else "must be a finite number >= 0"


def _smoothing(v):
    return None if 0 <= v < 0.5 else "must be in [0, 0.5)"


def _one_of(choices):
    def check(v):
        return None if v in choices else f"must be one of {', '.join(map(str, choices))}"

    return check


def _dataset(v):
    if v in DATASETS:
        return None
    if v.startswith("folder:") and len(v) > len("folder:"):
        return None
    return f"must be one of {', '.join(DATASETS)} or folder:PATH"


def _beta1(v):
    return None if math.isfinite(v) and 0 <= v < 1 else "must be in [0, 1)"


def _channels(v):
    return None if v in (0, 1, 3) else "must be 1 (grayscale), 3 (RGB) or 0 (the dataset's own)"


def _methods(v):
    methods = [m for m in v.split(",") if m]
    if not methods or any(m not in INTERP_METHODS for m in methods):
        return f"must be a comma-separated list of {', '.join(INTERP_METHODS)}"
    return None


def _name(v):
    if v and ("/" in v or "\\" in v or v in (".", "..")):
        return "must be a plain directory name (no slashes)"
    if "\n" in v or "\r" in v:
        return "must be one line"
    if len(v.encode()) > NAME_MAX:
        return f"is {len(v.encode())} bytes; a folder name may have at most {NAME_MAX}"
    return None


def _seed(v):
    # torch seeds its CPU generator with 32 bits: a larger seed would repeat a smaller one's weights
    return None if 0 <= v < 2**32 else "must be an integer from 0 to 4294967295 (2**32 - 1)"


def _wandb_name(v):
    # W&B refuses these characters in project and entity names, after the run folder exists
    bad = sorted(set(v) & set(WANDB_FORBIDDEN))
    if bad:
        return f"may not contain {' '.join(repr(c) for c in bad)} (W&B refuses {WANDB_FORBIDDEN!r} in names)"
    return None if len(v) <= 128 else "may have at most 128 characters"


def _eval_samples(v):
    return None if v == 0 or v >= 16 else "must be 0 (no evaluation) or at least 16"


def _eval_feature_images(v):
    return None if 64 <= v <= 10**7 else "must be from 64 to 10000000"


def _out(v):
    if any(len(part.encode()) > NAME_MAX for part in v.split("/")):
        return f"has a folder name longer than {NAME_MAX} bytes"
    return None


def _shown(value, limit: int = 60) -> str:
    """A value as a message shows it: one line, and a long one cut (a 300-character --name). Bounded
    for any value: a YAML alias bomb's nested lists, or an int of more digits than str() allows."""
    if isinstance(value, str):
        text = " ".join(value[: 4 * limit].split())
    else:
        try:
            text = _SHORT.repr(value)
        except ValueError:  # an int past Python's str() digit limit
            text = "a number of thousands of digits"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxlong, _SHORT.maxother = 2, 4, 4, 60, 60, 60


def _switch(value):
    """auto | true | false from a flag, a sweep's boolean or an old config.json's bool; anything else
    is left for the check to refuse."""
    if isinstance(value, (list, dict)):
        return value  # refused by the check, never turned into text
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return "true" if _to_bool(value) else "false"
    except ValueError:
        return str(value)


def _opt(default, help, check=None, convert=None, choices=()):
    """A field with its --help text and its check; `choices` (shown in --help) are checked unless `check` is given."""
    check = check or (_one_of(choices) if choices else None)
    return field(default=default, metadata={"help": help, "check": check, "convert": convert, "choices": choices})


@dataclass
class TrainConfig:
    """One run's settings; each field is the flag of its name. `--help` lists them in groups
    (model, data, training, evaluation, tracking, run: genlat.cli.FLAG_GROUPS)."""

    # --- the study's knobs ---
    zn: int = _opt(100, "latent size (the study: 50, 100, 150, 500)", _positive_int)
    lr: float = _opt(2e-4, "Adam learning rate for G and D (DCGAN: 2e-4)", _at_most(1.0, _positive_finite))
    beta1: float = _opt(0.5, "Adam beta1 (DCGAN: 0.5)", _beta1)
    epochs: int = _opt(20, "training epochs (the study: 20)", _at_most(MAX_EPOCHS, _positive_int))
    batch_size: int = _opt(64, "images per step on each process (DCGAN: 64)", _positive_int)
    seed: int = _opt(0, "seed of weights, data order and the latent bank", _seed)
    # --- data ---
    dataset: str = _opt(
        "shapes",
        "a built-in dataset, or folder:PATH (a folder of images)",
        _dataset,
        choices=(*DATASETS, "folder:PATH"),
    )
    data_dir: str = _opt("data", "where torchvision datasets live (downloaded there when possible)")
    image_size: int = _opt(32, "image side in pixels", choices=IMAGE_SIZES)
    channels: int = _opt(0, "1 = grayscale, 3 = RGB, 0 = the dataset's own", _channels, choices=(0, 1, 3))
    epoch_size: int = _opt(
        12800,
        "images per epoch: the size of the procedural dataset, a cap for finite ones",
        lambda v: None if v >= 2 else "must be at least 2 (the real images' spread compares pairs)",
    )
    num_workers: int = _opt(
        0, "DataLoader workers for file datasets (shapes renders in-process)", _at_most(256, _non_negative_int)
    )
    # --- model ---
    model: str = _opt(
        "dcgan", "model family: " + "; ".join(f"{k} = {m.help}" for k, m in MODELS.items()), choices=tuple(MODELS)
    )
    ngf: int = _opt(64, "generator (VAE: decoder) width (channels of its last hidden layer)", _positive_int)
    ndf: int = _opt(64, "discriminator (VAE: encoder) width (channels of its first layer)", _positive_int)
    beta: float = _opt(
        1.0, "VAE: weight of the KL term (beta-VAE, Higgins et al. 2017; 1 = the ELBO)", _at_most(1e4, _positive_finite)
    )
    instance_noise: float = _opt(
        0.2, "GAN: std of Gaussian noise added to D's inputs (0 = plain DCGAN)", _at_most(10.0, _non_negative_finite)
    )
    instance_noise_images: int = _opt(
        25600, "GAN: the noise shrinks linearly to 0 over this many training images", _at_most(2**53, _positive_int)
    )
    label_smoothing: float = _opt(
        0.1, "GAN: one-sided label smoothing, D's target for real images is 1 - this (0 = plain DCGAN)", _smoothing
    )
    # --- hardware ---
    mixed_precision: str = _opt(
        "auto",
        "auto: bf16 where the device runs it natively, else no (under accelerate launch: its setting); "
        "fp16 needs a GPU; see genlat/precision.py",
        choices=PRECISIONS,
    )
    cpu: bool = _opt(False, "train on the CPU even when a GPU is present")
    channels_last: str = _opt(
        "auto",
        "channels-last memory format for the networks and batches; auto: on for the CPU and for CUDA "
        "with bf16/fp16, where it measured faster",
        convert=_switch,
        choices=SWITCHES,
    )
    compile: bool = _opt(False, "torch.compile the training step's networks (minutes of warm-up; for long GPU runs)")
    # --- the epoch series and interpolation panels ---
    n_samples: int = _opt(64, "latent-bank samples in each epoch's grid", _positive_int)
    grid_nrow: int = _opt(8, "images per row of the sample grid", _at_most(1024, _positive_int))
    interp_pairs: int = _opt(4, "endpoint pairs per interpolation panel (one row each)", _positive_int)
    interp_steps: int = _opt(
        10, "images per interpolation row, endpoints included", lambda v: None if v >= 2 else "must be at least 2"
    )
    interp_methods: str = _opt("slerp,lerp", "interpolation methods, comma-separated (slerp, lerp)", _methods)
    interp_every: int = _opt(
        0, "also draw panels every N epochs (0 = the last epoch only)", _at_most(MAX_EPOCHS, _non_negative_int)
    )
    # --- evaluation (genlat.metrics): FD, KID, precision/recall, coverage, PPL in a feature space ---
    eval_every: int = _opt(
        1, "evaluate every N epochs and after the last (0 = no evaluation)", _at_most(MAX_EPOCHS, _non_negative_int)
    )
    eval_full_every: int = _opt(
        1,
        "the full evaluation (also PPL, interpolation evenness and shape changes, detail, fragments, latent "
        "usage) every N epochs and after the last; other evaluated epochs measure FD, KID, precision, recall "
        "and coverage only, a third of the cost (0 = the full one after the last epoch only)",
        _at_most(MAX_EPOCHS, _non_negative_int),
    )
    eval_samples: int = _opt(
        1000, "generated and real images per evaluation; PPL uses half as many pairs (0 = no evaluation)", _eval_samples
    )
    eval_feature_images: int = _opt(
        20000,
        "file datasets: rotation feature-net training images when not cached (in $GENLAT_CACHE or "
        "~/.cache/genlat); shapes use the shipped nets",
        _eval_feature_images,
    )
    eval_inception: str = _opt(
        "",
        "torchvision Inception-v3 weights for file datasets ('' = the torch hub cache's, else a net trained "
        "on the data)",
        lambda v: (
            None
            if not v or os.path.isfile(v)
            else "no such file: give the path of the weights (.pth) or leave it empty"
        ),
    )
    # --- divergence (genlat.health): non-finite losses always end a run; total mode collapse too ---
    collapse_spread: float = _opt(
        0.03,
        "end the run as diverged when the latent bank's spread, once above this fraction of the real "
        "data's, falls below it (0 = never)",
        lambda v: None if math.isfinite(v) and 0 <= v < 1 else "must be in [0, 1)",
    )
    collapse_epochs: int = _opt(
        3, "epochs in a row below --collapse_spread that end the run", _at_most(MAX_EPOCHS, _positive_int)
    )
    # --- output, tracking, checkpoints ---
    out: str = _opt("runs", "output root; the run lives in OUT/NAME", _out)
    name: str = _opt("", "run name (default: derived from the config)", _name)
    resume: bool = _opt(False, "continue OUT/NAME from its last checkpoint (an existing run resumes anyway)")
    keep_checkpoints: int = _opt(2, "checkpoints to keep (the newest N)", _at_most(MAX_EPOCHS, _positive_int))
    log_every: int = _opt(
        10, "steps between W&B training-loss points and plain progress lines", _at_most(2**31, _positive_int)
    )
    wandb_project: str = _opt("genlat", "W&B project", lambda v: _wandb_name(v) or (None if v else "must not be empty"))
    wandb_entity: str = _opt("", "W&B entity (default: your default entity)", _wandb_name)
    wandb_group: str = _opt("", "W&B group (a sweep sets it to its name)")
    debug: bool = _opt(False, "print tracebacks for user errors too")

    def __post_init__(self):
        # `--out=~/runs` reaches us unexpanded (the shell expands ~ only at a word's start); W&B would
        # expand it and genlat not, so each wrote elsewhere. Paths are expanded here, once, for all.
        self.out, self.data_dir, self.eval_inception = map(user_path, (self.out, self.data_dir, self.eval_inception))
        for f in dataclasses.fields(self):
            check = f.metadata.get("check")
            problem = check(getattr(self, f.name)) if check else None
            if problem:
                raise refused(f.name, getattr(self, f.name), problem)
        if self.n_samples < 2 * self.interp_pairs:
            raise refused(
                "interp_pairs",
                self.interp_pairs,
                f"needs --n_samples >= {2 * self.interp_pairs} (each pair's endpoints come from the latent bank)",
            )
        if self.batch_size > self.epoch_size:
            raise refused(
                "batch_size",
                self.batch_size,
                f"larger than --epoch_size={self.epoch_size}, so an epoch "
                "would have no full step; lower --batch_size or raise --epoch_size",
            )
        check_fits_in_memory(self)

    @property
    def run_name(self) -> str:
        """--name, or one derived from the config; under `wandb agent` the W&B run's id is appended,
        so a second sweep of the same file (or a manual run with the same settings) never resumes,
        or skips as finished, a folder that belongs to another W&B run."""
        if self.name:
            return self.name
        data = self.dataset.split(":", 1)[0]
        beta = f"-beta{self.beta:g}" if self.model == "vae" and self.beta != 1 else ""
        derived = f"{data}{self.image_size}-{self.model}{beta}-zn{self.zn}-lr{self.lr:g}-s{self.seed}"
        agent_run = agent_run_id()
        return f"{derived}-{agent_run}" if agent_run else derived

    @property
    def methods(self) -> list[str]:
        return [m for m in self.interp_methods.split(",") if m]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "") -> TrainConfig:
        """Build from a mapping (a sweep's parameters, a saved config.json), converting and checking.
        With `source` (a file genlat wrote, e.g. RUN/config.json) a refused value is that file's
        damage, exit 4, and the message names the file instead of a flag the user never typed."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        try:
            if unknown:
                raise ConfigError(f"unknown setting(s): {', '.join('--' + u for u in unknown)}; see --help")
            return cls(**{k: _convert(known[k], v) for k, v in values.items()})
        except ConfigError as e:
            if not source:
                raise
            what = f"{e.setting[0]}={e.setting[1]}: {e.setting[2]}" if getattr(e, "setting", None) else str(e)
            raise OutputError(
                f"{source} says {what}; it is not a config genlat would have run: restore it, "
                "or move the run folder away"
            ) from None


def refused(name: str, value: Any, problem: str) -> ConfigError:
    """The one-line refusal of a setting, `--NAME=VALUE: problem`; `setting` keeps the parts, so a
    caller reading a file can say where the value came from instead (TrainConfig.from_dict)."""
    e = ConfigError(f"--{name}={_shown(value)}: {problem}")
    e.setting = (name, _shown(value), problem)
    return e


def _image_channels(cfg: TrainConfig) -> int:
    """Channels of the run's images (of a dataset left at 0: the fewest it could have)."""
    return cfg.channels or (1 if cfg.dataset in ("shapes", "mnist", "fashion-mnist") else 3)


def memory_needs(cfg: TrainConfig, eval_samples: int | None = None) -> dict[str, tuple[int, str]]:
    """Bytes of the largest allocations a run (or `genlat eval`, with its `eval_samples`) makes, each
    with the flag that sizes it. Counts only the tensors that must exist at once (no workspace, no
    copies torch may make): a lower bound, so a refusal is certain and a pass is not a promise.

      networks      weights, gradients and Adam's moments of every conv (genlat.models.widths' layers)
      batch         one step's activations kept for backward: G, and D three times (real, fake, G's step)
      latent bank   the bank's z and images, their grid, and the spread's pairwise distances (float64)
      panels        each interpolation row's z and images (the evaluation's evenness rows too)
      evaluation    its z, generated and real images, and the k-NN distance matrix (float64)
      epoch order   the epoch's permutation of the procedural dataset (int64)
    """
    channels, zn, f32, f64 = _image_channels(cfg), cfg.zn, 4, 8
    img = channels * cfg.image_size**2  # floats in one image
    g, d = generator_layers(cfg.image_size, cfg.ngf), discriminator_layers(cfg.image_size, cfg.ndf)
    head = 2 * zn if cfg.model == "vae" else 1  # D's logit, or the encoder's mean and log-variance
    g_widths, d_widths = [zn, *(w for w, _ in g), channels], [channels, *(w for w, _ in d), head]
    params = 16 * sum(a * b for seq in (g_widths, d_widths) for a, b in zip(seq, seq[1:]))  # every 4x4 conv
    g_act = sum(2 * w * side**2 for w, side in g) + 2 * img  # each hidden layer's conv and BatchNorm outputs
    d_act = sum((1 if j == 0 else 2) * w * side**2 for j, (w, side) in enumerate(d)) + img  # no BatchNorm first
    n, e = cfg.n_samples, eval_samples if eval_samples is not None else (cfg.eval_samples if cfg.eval_every else 0)
    rows = max(cfg.interp_pairs, 16) * cfg.interp_steps
    needs = {
        "networks": (params * BYTES_PER_PARAM, f"--zn={cfg.zn} --ngf={cfg.ngf} --ndf={cfg.ndf}"),
        "batch": (cfg.batch_size * f32 * (g_act + 3 * d_act), f"--batch_size={cfg.batch_size}"),
        "latent bank": (n * (zn * f32 + img * (2 * f32 + f64)) + n * (n - 1) // 2 * f64, f"--n_samples={n}"),
        "panels": (rows * (zn + 2 * img) * f32, f"--interp_pairs={cfg.interp_pairs} --interp_steps={cfg.interp_steps}"),
        "evaluation": (
            e * (zn + 2 * img) * f32 + e * e * f64 + 2 * e * FEATURE_DIMS * f64,
            f"--{'samples' if eval_samples is not None else 'eval_samples'}={e}",
        ),
        "epoch order": (2 * cfg.epoch_size * 8 if cfg.dataset == "shapes" else 0, f"--epoch_size={cfg.epoch_size}"),
    }
    return needs


def check_fits_in_memory(cfg: TrainConfig, eval_samples: int | None = None) -> None:
    """Refuse settings whose allocations cannot fit in this machine's memory, before anything is
    created (they would otherwise end in an allocation traceback deep inside torch, or the OOM killer).
    The networks stay allocated while the largest of the rest is."""
    needs = memory_needs(cfg, eval_samples)
    nets = needs.pop("networks")
    part, (peak, flags) = max(needs.items(), key=lambda kv: kv[1][0])
    need = nets[0] + peak
    have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need <= have:
        return
    what = f"the {part} alone: {peak / 2**30:,.1f} GiB"
    if nets[0] >= peak:
        what, flags = f"the networks: {nets[0] / 2**30:,.1f} GiB to train", nets[1]
    raise ConfigError(
        f"{flags}: this needs at least {need / 2**30:,.1f} GiB of memory ({what}), more than this "
        f"machine's {have / 2**30:,.0f} GiB; lower {' or '.join(f.split('=')[0] for f in flags.split())}"
    )


# Settings that only say where or how a run is shown; resuming with other values is fine (the
# precision is the exception: it is compared after resolution instead, `auto` against what the run used).
COSMETIC = {
    "out",
    "name",
    "resume",
    "keep_checkpoints",
    "log_every",
    "num_workers",
    "data_dir",
    "wandb_project",
    "wandb_entity",
    "wandb_group",
    "debug",
    "cpu",
    "interp_every",
    "epochs",
    "eval_every",
    "eval_full_every",
    "channels_last",
    "compile",  # these two change speed, not the experiment
    "collapse_spread",
    "collapse_epochs",  # these two only decide when to give up
    "mixed_precision",
}  # compared by genlat.precision.resolve


def _convert(f: dataclasses.Field, value: Any) -> Any:
    """Turn a CLI string (or a YAML/JSON value) into the field's type, or refuse it."""
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    if f.metadata.get("convert"):
        return f.metadata["convert"](value)
    try:
        if isinstance(value, (list, dict, tuple, set)):
            raise ValueError  # a YAML list where one value belongs: refused without turning it into text
        if kind == "bool":
            return _to_bool(value)
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(str(value).strip())
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        noun = {"int": "an integer", "float": "a number", "bool": "true or false"}[kind]
        raise refused(f.name, value, f"must be {noun}") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)
