"""Feature spaces: where FD, KID, precision/recall, factor coverage and PPL are measured.

- shapes: a FactorNet, the small CNN below trained on the renderer's own images to predict the
  five ground-truth factors; trained once and shipped (genlat.metrics.reference_nets). Its 128-d
  penultimate layer is the feature space, its heads give the factor predictions behind coverage.
- file datasets: torchvision's Inception-v3 (2048-d pool features) when its weights are at hand
  (--eval_inception PATH, or the file already in the torch hub cache). Otherwise the same small
  CNN trained on the dataset's own images to predict their rotation (0/90/180/270 degrees;
  Gidaris et al. 2018, arXiv 1803.07728): it needs no labels (folders have none), one training
  loop serves both cases, and it has to see objects' shape and orientation, where a small
  autoencoder's features mostly encode pixel intensities.

A rotation net is trained on first use and cached in $GENLAT_CACHE (default ~/.cache/genlat) in a
file named by a hash of its settings, written atomically and loaded with weights_only=True; its
held-out accuracy travels with it. Every feature space has a name that ends in @ and the first 12
hex of the sha256 of the weights actually used, so two machines that trained different nets never
share a name; numbers from different feature spaces do not compare.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from genlat.atomic import atomic_write_bytes
from genlat.errors import ConfigError
from genlat.inference import eval_batches

HASH_CHARS = 12  # of a sha256 in a feature space's name: name@3fa91c2e0b7d

CACHE_ENV = "GENLAT_CACHE"
VERSION = 1  # bump when the nets or their training change: old cache files are then ignored
INCEPTION_FILE = "inception_v3_google-0cc3c7bd.pth"  # torchvision's name in the hub cache


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "genlat").expanduser()


class SmallCNN(nn.Module):
    """(B, C, S, S) in [-1, 1] -> features (B, dim) and logits (B, sum(heads)); S = 32 or 64."""

    def __init__(self, channels: int, heads: tuple[int, ...], dim: int = 128, width: int = 32):
        super().__init__()
        self.heads, self.num_features = tuple(heads), dim

        def block(cin, cout, k, s):
            return [
                nn.Conv2d(cin, cout, k, s, (k - 1) // 2 if s == 1 else 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(True),
            ]

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


# Images per feature-net call. The net's outputs are the same bits at any batch size; 64 cost
# 0.57x the CPU time of 500 at 32 px and 0.45x at 64 px here (activations that stay in cache; 2
# threads, 1,000 images, the shipped nets).
BATCH = 64


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
        h = h.cpu().double()  # float64 from here on: statistics whose sums do not depend on the thread count
        return h if self.mean is None else (h - self.mean) / self.std

    def _fit(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(next(self.net.parameters()).dtype)
        if x.shape[1] != self.channels:
            x = x.mean(1, keepdim=True) if self.channels == 1 else x.expand(-1, self.channels, -1, -1)
        if self.resize and x.shape[-1] != self.resize:
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False)
        return x

    @torch.no_grad()
    def features(self, images: torch.Tensor, batch: int = BATCH) -> torch.Tensor:
        """(N, C, H, W) in [-1, 1] -> (N, dim) float64 on the CPU."""
        return eval_batches(
            self.net, images, batch, next(self.net.parameters()).device, lambda b: self._norm(self.net(self._fit(b)))
        )

    @torch.no_grad()
    def features_and_factors(self, images: torch.Tensor, batch: int = BATCH) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (N, dim) and predicted factor classes (N, 5), for a FactorNet space."""
        device = next(self.net.parameters()).device
        feats, classes = [], []
        for b in images.split(batch):
            h = self.net.body(self._fit(b.to(device)))
            logits = self.net.head(F.relu(h)).split(self.net.heads, dim=1)
            feats.append(self._norm(h))
            classes.append(torch.stack([lg.argmax(1) for lg in logits], dim=1).cpu())
        return torch.cat(feats), torch.cat(classes)


def weights_hash(net: nn.Module) -> str:
    """sha256 of the weights a net measures with (names, dtypes, shapes and bytes, in order)."""
    h = hashlib.sha256()
    for key, t in net.state_dict().items():
        h.update(f"{key}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


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


def train_net(
    net: SmallCNN,
    batches: Callable[[int], tuple[torch.Tensor, list[torch.Tensor]]],
    steps: int,
    loss_fn: Callable,
    seed: int,
) -> float:
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
        raise ConfigError(
            f"--eval_inception={weights}: not torchvision Inception-v3 weights ({type(e).__name__})"
        ) from None
    net.fc = nn.Identity()
    net.num_features = 2048
    net.eval()  # [-1, 1] input is what transform_input=False expects
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()  # torchvision's file name holds its first 8 hex
    return FeatureSpace(
        f"inception_v3-torchvision@{digest[:HASH_CHARS]}", net, {"weights": str(weights)}, channels=3, resize=299
    )


def rotation_feature_space(
    dataset_id: dict, images: torch.Tensor, epochs: int = 8, log: Callable[[str], None] = print
) -> FeatureSpace:
    settings = {"kind": "rotnet", "version": VERSION, **dataset_id, "train_images": len(images), "epochs": epochs}
    with _cache_lock(cache_dir() / f"rotnet-{settings_hash(settings)}.pt"):
        return _rotation_feature_space(dataset_id, images, epochs, log)


def _rotation_feature_space(
    dataset_id: dict, images: torch.Tensor, epochs: int = 8, log: Callable[[str], None] = print
) -> FeatureSpace:
    """A SmallCNN trained to tell how `images` (N, C, S, S) were turned (4 classes); 10% held out."""
    settings = {"kind": "rotnet", "version": VERSION, **dataset_id, "train_images": len(images), "epochs": epochs}
    key = settings_hash(settings)
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
        log(
            f"training the {dataset_id['dataset']} feature net (rotation prediction, {len(train)} images; cached after)"
        )

        def batches(step):
            idx = order[step * batch : (step + 1) * batch]
            rot = torch.randint(0, 4, (len(idx),), generator=gen)
            return _rotate(train[idx], rot), rot

        seconds = train_net(net, batches, per_epoch * epochs, lambda lg, t: F.cross_entropy(lg[0], t), seed=0)
        rot = torch.arange(len(test)) % 4
        with torch.no_grad():
            pred = torch.cat([net.logits(b)[0].argmax(1) for b in _rotate(test, rot).split(500)])
        info = {
            "heldout_accuracy": {"rotation": (pred == rot).float().mean().item()},
            "train_seconds": round(seconds, 1),
            "settings": settings,
        }
        info = _with_spread(info, net, test)
        save_cached(path, net, info)
    net.eval()
    name = f"{dataset_id['dataset'].split(':')[0]}-rotnet-{images.shape[-1]}px@{weights_hash(net)[:HASH_CHARS]}"
    return FeatureSpace(
        name,
        net,
        {**info, "cache_file": str(path)},
        channels=channels,
        mean=info.get("feature_mean"),
        std=info.get("feature_std", 1.0),
    )


def _rotate(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Turn image i by k[i] quarter turns: (B, C, S, S)."""
    return torch.stack([torch.rot90(img, int(r), dims=(1, 2)) for img, r in zip(x, k)])
