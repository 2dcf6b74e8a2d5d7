"""Feature spaces: where FD, KID, precision/recall, factor coverage and PPL are measured.

- shapes: `FactorNet`, a small CNN trained on the renderer's own images to predict the five
  ground-truth factors. Its 128-d penultimate layer is the feature space, its heads give the
  factor predictions behind the coverage metrics.
- file datasets: torchvision's Inception-v3 (2048-d pool features) when its weights are at hand
  (--eval_inception PATH, or the file already in the torch hub cache). Otherwise the same small
  CNN trained on the dataset's own images to predict their rotation (0/90/180/270 degrees;
  Gidaris et al. 2018, arXiv 1803.07728): it needs no labels (folders have none), one training
  loop serves both cases, and it has to see objects' shape and orientation, where a small
  autoencoder's features mostly encode pixel intensities.

A trained net is cached in $GENLAT_CACHE (default ~/.cache/genlat) in a file named by a hash of
its settings, written atomically and loaded with weights_only=True; its held-out accuracy travels
with it. Every feature space has a name; numbers from different feature spaces do not compare.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from genlat.data.shapes import FACTOR_NAMES, FACTOR_SIZES, SHAPES, ShapesSource
from genlat.errors import ConfigError
from genlat.inference import eval_batches
from genlat.rundir import atomic_write_bytes

CACHE_ENV = "GENLAT_CACHE"
VERSION = 1  # bump when the nets or their training change: old cache files are then ignored
# A turned square repeats every 90 degrees and an ellipse every 180, so orientation class k and
# k + period show the same image: the loss and accuracy count any of them as right.
ORIENT_PERIOD = {"square": 10, "ellipse": 20, "heart": 40}
TRAIN_OFFSET = 1 << 40  # shapes indices the feature net trains on: far from any run's epoch
TEST_OFFSET = 1 << 41  # and the ones it is tested on
INCEPTION_FILE = "inception_v3_google-0cc3c7bd.pth"  # torchvision's name in the hub cache


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "genlat").expanduser()


class SmallCNN(nn.Module):
    """(B, C, S, S) in [-1, 1] -> features (B, dim) and logits (B, sum(heads)); S = 32 or 64."""

    def __init__(self, channels: int, heads: tuple[int, ...], dim: int = 128, width: int = 32):
        super().__init__()
        self.heads, self.num_features = tuple(heads), dim

        def block(cin, cout, k, s):
            return [nn.Conv2d(cin, cout, k, s, (k - 1) // 2 if s == 1 else 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]

        self.body = nn.Sequential(
            *block(channels, width, 3, 1),  # (B, w, S, S)
            *block(width, 2 * width, 4, 2),  # (B, 2w, S/2, S/2)
            *block(2 * width, 4 * width, 4, 2),  # (B, 4w, S/4, S/4)
            *block(4 * width, 4 * width, 4, 2),  # (B, 4w, S/8, S/8)
            nn.AdaptiveAvgPool2d(4),  # (B, 4w, 4, 4): keeps coarse position
            nn.Flatten(),
            nn.Linear(4 * width * 16, dim),  # (B, dim): the feature space
        )
        self.head = nn.Linear(dim, sum(heads))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        return list(self.head(F.relu(self.body(x))).split(self.heads, dim=1))


@dataclass
class FeatureSpace:
    """A named feature map; `factor_logits` only for shapes (the coverage metrics need it)."""

    name: str
    net: nn.Module
    info: dict = field(default_factory=dict)  # held-out accuracy, training seconds, cache file
    channels: int = 1  # what the net takes: images are averaged or repeated to fit
    resize: int | None = None  # Inception wants 299 px
    predicts_factors: bool = False
    mean: torch.Tensor | None = None  # trained nets: features are (h - mean) / std, both from held-out
    std: float = 1.0  # images, so distances are in units of the real data's spread (KID's kernel needs O(1))

    def _norm(self, h: torch.Tensor) -> torch.Tensor:
        h = h.float().cpu()
        return h if self.mean is None else (h - self.mean) / self.std

    def _fit(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.channels:
            x = x.mean(1, keepdim=True) if self.channels == 1 else x.expand(-1, self.channels, -1, -1)
        if self.resize and x.shape[-1] != self.resize:
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False)
        return x

    @torch.no_grad()
    def features(self, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
        """(N, C, H, W) in [-1, 1] -> (N, dim) float32 on the CPU."""
        return eval_batches(self.net, images, batch, next(self.net.parameters()).device,
                            lambda b: self._norm(self.net(self._fit(b))))

    @torch.no_grad()
    def features_and_factors(self, images: torch.Tensor, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (N, dim) and predicted factor classes (N, 5), for a FactorNet space."""
        device = next(self.net.parameters()).device
        feats, classes = [], []
        for b in images.split(batch):
            h = self.net.body(self._fit(b.to(device)))
            logits = self.net.head(F.relu(h)).split(self.net.heads, dim=1)
            feats.append(self._norm(h))
            classes.append(torch.stack([lg.argmax(1) for lg in logits], dim=1).cpu())
        return torch.cat(feats), torch.cat(classes)


def _with_spread(info: dict, net: nn.Module, images: torch.Tensor) -> dict:
    """info plus the raw features' mean (dim,) and overall std over `images` (held out)."""
    with torch.no_grad():
        h = torch.cat([net(b).float() for b in images.split(500)])
    return {**info, "feature_mean": h.mean(0), "feature_std": float(h.var(0).mean().sqrt().clamp_min(1e-12))}


def settings_hash(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def _load_cached(path: Path, net: nn.Module) -> dict | None:
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(saved["state_dict"])
        return dict(saved["info"])
    except Exception:  # missing, truncated or from another version: train again
        return None


def save_cached(path: Path, net: nn.Module, info: dict) -> None:
    buf = io.BytesIO()
    torch.save({"state_dict": net.state_dict(), "info": info}, buf)
    try:
        atomic_write_bytes(path, buf.getvalue())
    except OSError:  # a read-only cache only costs the training again next time
        pass


def _train(net: SmallCNN, batches: Callable[[int], tuple[torch.Tensor, list[torch.Tensor]]], steps: int,
           loss_fn: Callable, seed: int) -> float:
    """Adam with a cosine schedule; returns seconds taken."""
    torch.manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    net.train()
    t0 = time.perf_counter()
    for step in range(steps):
        x, targets = batches(step)
        loss = loss_fn(net.logits(x), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    net.eval()
    return time.perf_counter() - t0


# --- shapes: predict the ground-truth factors -------------------------------------------------

def _orient_period(shape: torch.Tensor) -> torch.Tensor:
    return torch.tensor([ORIENT_PERIOD[s] for s in SHAPES])[shape]  # (B,)


def _same_orientation(shape: torch.Tensor, orient: torch.Tensor) -> torch.Tensor:
    """(B, 40) bool: which orientation classes show the same image as the true one."""
    k = torch.arange(FACTOR_SIZES[2]).view(1, -1)
    return (k - orient.view(-1, 1)) % _orient_period(shape).view(-1, 1) == 0


def factor_loss(logits: list[torch.Tensor], classes: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per factor; orientation's counts every class that shows the same image."""
    loss = 0.0
    for i, lg in enumerate(logits):
        if FACTOR_NAMES[i] == "orientation":
            logp = lg.log_softmax(1)
            same = _same_orientation(classes[:, 0], classes[:, i]).to(lg.device)
            loss = loss - logp.masked_fill(~same, float("-inf")).logsumexp(1).mean()
        else:
            loss = loss + F.cross_entropy(lg, classes[:, i].to(lg.device))
    return loss


def factor_accuracy(pred: torch.Tensor, true: torch.Tensor) -> dict[str, float]:
    """Held-out accuracy per factor (orientation: up to the shape's symmetry), and within one
    class for the ordered factors (scale, orientation, x, y)."""
    out = {}
    for i, name in enumerate(FACTOR_NAMES):
        p, t = pred[:, i], true[:, i]
        if name == "orientation":
            period = _orient_period(true[:, 0])
            diff = (p - t) % period
            diff = torch.minimum(diff, period - diff)
            out[name] = (diff == 0).float().mean().item()
            out[f"{name}_within1"] = (diff <= 1).float().mean().item()
        else:
            out[name] = (p == t).float().mean().item()
            if name != "shape":
                out[f"{name}_within1"] = ((p - t).abs() <= 1).float().mean().item()
    return out


def factornet_settings(image_size: int, train_images: int, epochs: int = 10, data_seed: int = 0,
                       test_images: int = 2000, width: int = 16) -> dict:
    return {"kind": "factornet", "version": VERSION, "image_size": image_size, "data_seed": data_seed,
            "train_images": train_images, "epochs": epochs, "test_images": test_images, "batch": 128, "width": width}


def factornet_file(settings: dict) -> Path:
    return cache_dir() / f"factornet-{settings_hash(settings)}.pt"


@contextlib.contextmanager
def _cache_lock(path: Path):
    """One process trains a missing net while the others (sweep workers) wait, then load it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "a")
    except OSError:  # a read-only cache: no lock, each process trains its own
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        threads = torch.get_num_threads()
        if not path.exists():  # about to train: the other workers wait on this lock, so use every core
            torch.set_num_threads(max(os.cpu_count() or 1, threads))
        try:
            yield
        finally:
            torch.set_num_threads(threads)
            fcntl.flock(handle, fcntl.LOCK_UN)


def shapes_feature_space(image_size: int, train_images: int, epochs: int = 10, data_seed: int = 0,
                         test_images: int = 2000, width: int = 16, log: Callable[[str], None] = print) -> FeatureSpace:
    settings = factornet_settings(image_size, train_images, epochs, data_seed, test_images, width)
    with _cache_lock(factornet_file(settings)):
        return _shapes_feature_space(image_size, train_images, epochs, data_seed, test_images, width, log)


def _shapes_feature_space(image_size: int, train_images: int, epochs: int = 10, data_seed: int = 0,
                          test_images: int = 2000, width: int = 16, log: Callable[[str], None] = print) -> FeatureSpace:
    """The FactorNet for shapes at `image_size`, from the cache or trained now (on `train_images`
    renders, `epochs` passes) and tested on `test_images` other renders."""
    settings = factornet_settings(image_size, train_images, epochs, data_seed, test_images, width)
    key = settings_hash(settings)
    name = f"shapes-factornet-{image_size}px-{key[:8]}"
    path = factornet_file(settings)
    net = SmallCNN(1, FACTOR_SIZES, width=width)
    info = _load_cached(path, net)
    if info is None:
        source = ShapesSource(train_images, image_size, data_seed=data_seed)
        log(f"training the shapes feature net ({train_images} images x {epochs} epochs; cached after)")
        t0 = time.perf_counter()
        images = source.render_indices(torch.arange(train_images) + TRAIN_OFFSET)  # (N, 1, S, S)
        classes = source.factors_for(torch.arange(train_images) + TRAIN_OFFSET).classes
        render_s = time.perf_counter() - t0
        batch = min(settings["batch"], train_images)
        per_epoch = max(train_images // batch, 1)
        gen = torch.Generator().manual_seed(0)
        order = torch.cat([torch.randperm(train_images, generator=gen) for _ in range(epochs)])

        def batches(step):
            idx = order[step * batch:(step + 1) * batch]
            return images[idx], classes[idx]

        train_s = _train(net, batches, per_epoch * epochs, factor_loss, seed=0)
        test_idx = torch.arange(test_images) + TEST_OFFSET
        space = FeatureSpace(name, net, predicts_factors=True)
        _, pred = space.features_and_factors(source.render_indices(test_idx))
        acc = factor_accuracy(pred, source.factors_for(test_idx).classes)
        info = {"heldout_accuracy": acc, "train_seconds": round(render_s + train_s, 1), "settings": settings}
        save_cached(path, net, info)
        log(f"feature net trained in {info['train_seconds']:.0f}s; held-out accuracy "
            + " ".join(f"{k} {v:.2f}" for k, v in acc.items() if "_" not in k))
    net.eval()
    if "feature_mean" not in info:  # measured once, on held-out renders, then kept in the cache file
        test = ShapesSource(2, image_size, data_seed=data_seed).render_indices(torch.arange(500) + TEST_OFFSET)
        info = _with_spread(info, net, test)
        save_cached(path, net, info)
    return FeatureSpace(name, net, {**info, "cache_file": str(path)}, channels=1, predicts_factors=True,
                        mean=info["feature_mean"], std=info["feature_std"])


# --- file datasets: Inception-v3 if at hand, else rotation prediction ---------------------------

def inception_weights(path: str) -> Path | None:
    """The weights file to use: the given path (which must exist), else the hub cache's, else None."""
    if path:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ConfigError(f"--eval_inception={path}: no such file (torchvision's {INCEPTION_FILE})")
        return p
    p = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    return p if p.is_file() else None


def inception_feature_space(weights: Path) -> FeatureSpace:
    """torchvision's Inception-v3, 2048-d pool features. Not the TF-FID Inception of published FIDs."""
    from torchvision.models import inception_v3

    net = inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False)
    try:
        net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    except Exception as e:
        raise ConfigError(f"--eval_inception={weights}: not torchvision Inception-v3 weights ({type(e).__name__})") from None
    net.fc = nn.Identity()
    net.num_features = 2048
    net.eval()  # [-1, 1] input is what transform_input=False expects
    return FeatureSpace("inception_v3-torchvision", net, {"weights": str(weights)}, channels=3, resize=299)


def rotation_feature_space(dataset_id: dict, images: torch.Tensor, epochs: int = 8,
                           log: Callable[[str], None] = print) -> FeatureSpace:
    settings = {"kind": "rotnet", "version": VERSION, **dataset_id, "train_images": len(images), "epochs": epochs}
    with _cache_lock(cache_dir() / f"rotnet-{settings_hash(settings)}.pt"):
        return _rotation_feature_space(dataset_id, images, epochs, log)


def _rotation_feature_space(dataset_id: dict, images: torch.Tensor, epochs: int = 8,
                            log: Callable[[str], None] = print) -> FeatureSpace:
    """A SmallCNN trained to tell how `images` (N, C, S, S) were turned (4 classes); 10% held out."""
    settings = {"kind": "rotnet", "version": VERSION, **dataset_id, "train_images": len(images), "epochs": epochs}
    key = settings_hash(settings)
    name = f"{dataset_id['dataset'].split(':')[0]}-rotnet-{images.shape[-1]}px-{key[:8]}"
    path = cache_dir() / f"rotnet-{key}.pt"
    channels = images.shape[1]
    net = SmallCNN(channels, (4,))
    info = _load_cached(path, net)
    if info is None:
        n_test = max(len(images) // 10, 1)
        train, test = images[n_test:], images[:n_test]
        batch = min(128, len(train))
        per_epoch = max(len(train) // batch, 1)
        gen = torch.Generator().manual_seed(0)
        order = torch.cat([torch.randperm(len(train), generator=gen) for _ in range(epochs)])
        log(f"training the {dataset_id['dataset']} feature net (rotation prediction, {len(train)} images; cached after)")

        def batches(step):
            idx = order[step * batch:(step + 1) * batch]
            rot = torch.randint(0, 4, (len(idx),), generator=gen)
            return _rotate(train[idx], rot), rot

        seconds = _train(net, batches, per_epoch * epochs, lambda lg, t: F.cross_entropy(lg[0], t), seed=0)
        rot = torch.arange(len(test)) % 4
        with torch.no_grad():
            pred = torch.cat([net.logits(b)[0].argmax(1) for b in _rotate(test, rot).split(500)])
        info = {"heldout_accuracy": {"rotation": (pred == rot).float().mean().item()},
                "train_seconds": round(seconds, 1), "settings": settings}
        info = _with_spread(info, net, test)
        save_cached(path, net, info)
    net.eval()
    return FeatureSpace(name, net, {**info, "cache_file": str(path)}, channels=channels,
                        mean=info.get("feature_mean"), std=info.get("feature_std", 1.0))


def _rotate(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Turn image i by k[i] quarter turns: (B, C, S, S)."""
    return torch.stack([torch.rot90(img, int(r), dims=(1, 2)) for img, r in zip(x, k)])
