"""The shipped measuring stick: shapes FactorNets for 32 and 64 px, trained once and shipped in
genlat/metrics/weights/ with a manifest of their sha256, settings and held-out accuracies.

Like FID's fixed Inception weights: a net retrained on each machine differs (CPU training is not
bitwise reproducible across CPUs or thread counts), and so would every number measured with it.
So runs, `genlat eval` and the report never train one; they load the shipped file
(weights_only=True), refuse it when its sha256 is not the manifest's (exit 3), and name the
feature space after the hash: `shapes-factornet-32px@<12 hex>`.

Re-create them (a new hash, so a new name) with
    python -m genlat.metrics.reference_nets train --image_size 32   # and 64
$GENLAT_WEIGHTS points at another directory holding both the .pt files and manifest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from genlat.atomic import atomic_write_bytes, atomic_write_json
from genlat.data.shapes import FACTOR_NAMES, FACTOR_SIZES, SHAPES, ShapesSource
from genlat.errors import DataError
from genlat.metrics.features import HASH_CHARS, FeatureSpace, SmallCNN, train_net

WEIGHTS_ENV = "GENLAT_WEIGHTS"
MANIFEST = "manifest.json"
# A turned square repeats every 90 degrees and an ellipse every 180, so orientation class k and
# k + period show the same image: the loss and accuracy count any of them as right.
ORIENT_PERIOD = {"square": 10, "ellipse": 20, "heart": 40}
TRAIN_OFFSET = 1 << 40  # shapes indices the nets train on: far from any run's epoch or held-out images
TEST_OFFSET = 1 << 41  # and the ones they are tested on (and their feature spread measured on)
# The fixed recipe per image size: on one core of this 2-core CPU about 4 min of compute at 32 px
# (3,750 steps of 0.057 s) and 9 min at 64 px (1,560 steps of 0.34 s), plus rendering the images.
SETTINGS = {
    32: {
        "image_size": 32,
        "data_seed": 0,
        "train_images": 40000,
        "epochs": 12,
        "test_images": 2000,
        "batch": 128,
        "width": 16,
    },
    64: {
        "image_size": 64,
        "data_seed": 0,
        "train_images": 20000,
        "epochs": 10,
        "test_images": 2000,
        "batch": 128,
        "width": 16,
    },
}


def weights_dir() -> Path:
    return Path(os.environ.get(WEIGHTS_ENV) or Path(__file__).parent / "weights")


def file_name(image_size: int) -> str:
    return f"shapes-factornet-{image_size}px.pt"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(folder: Path | None = None) -> dict:
    path = (folder or weights_dir()) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DataError(
            f"{path}: the reference feature nets' manifest is unreadable ({type(e).__name__}); "
            "reinstall genlat or unset $" + WEIGHTS_ENV
        ) from None


def verified_bytes(image_size: int) -> tuple[bytes, dict]:
    """The shipped file's bytes and its manifest entry, or one line (exit 3) saying what is wrong."""
    folder = weights_dir()
    entry = read_manifest(folder).get(str(image_size))
    if entry is None:
        raise DataError(f"no reference shapes feature net for {image_size} px in {folder}: use --image_size 32 or 64")
    path = folder / entry["file"]
    redo = f"reinstall genlat, or re-create it: python -m genlat.metrics.reference_nets train --image_size {image_size}"
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read the reference feature net ({e.strerror}); {redo}") from None
    if sha256(data) != entry["sha256"]:
        raise DataError(
            f"{path}: sha256 {sha256(data)[:12]} is not the manifest's {entry['sha256'][:12]} "
            f"(damaged or replaced); never retrained at run time: {redo}"
        )
    return data, entry


def shapes_feature_space(image_size: int) -> FeatureSpace:
    """The shipped FactorNet for `image_size`, verified, in float32 on the CPU."""
    data, entry = verified_bytes(image_size)
    saved = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    net = SmallCNN(1, FACTOR_SIZES, width=entry["settings"]["width"])
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in saved["state_dict"].items()})
    net.eval()
    info = {"heldout_accuracy": entry["heldout_accuracy"], "sha256": entry["sha256"], "settings": entry["settings"]}
    return FeatureSpace(
        f"shapes-factornet-{image_size}px@{entry['sha256'][:HASH_CHARS]}",
        net,
        info,
        channels=1,
        predicts_factors=True,
        mean=saved["feature_mean"].double(),
        std=float(saved["feature_std"]),
    )


# --- the training recipe ------------------------------------------------------------------------


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
    return {k: round(v, 4) for k, v in out.items()}


def _fit(settings: dict) -> tuple[SmallCNN, float]:
    """A FactorNet trained on `train_images` renders for `epochs` passes; (net, seconds)."""
    n, size = settings["train_images"], settings["image_size"]
    source = ShapesSource(n, size, data_seed=settings["data_seed"])
    t0 = time.perf_counter()
    images = source.render_indices(torch.arange(n) + TRAIN_OFFSET)  # (N, 1, S, S)
    classes = source.factors_for(torch.arange(n) + TRAIN_OFFSET).classes  # (N, 5)
    batch = settings["batch"]
    gen = torch.Generator().manual_seed(0)
    order = torch.cat([torch.randperm(n, generator=gen) for _ in range(settings["epochs"])])

    def batches(step):
        idx = order[step * batch : (step + 1) * batch]
        return images[idx], classes[idx]

    net = SmallCNN(1, FACTOR_SIZES, width=settings["width"])
    train_net(net, batches, n // batch * settings["epochs"], factor_loss, seed=0)
    return net, time.perf_counter() - t0


def train(image_size: int, out: Path, log=print) -> dict:
    """Train the reference net for `image_size`, store it in fp16 with its feature spread, and
    record its hash, settings and held-out accuracy in `out`/manifest.json."""
    settings = SETTINGS[image_size]
    log(f"training the {image_size} px reference net: {settings}")
    net, seconds = _fit(settings)
    net.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in net.state_dict().items()})
    test = ShapesSource(2, image_size, data_seed=settings["data_seed"])
    idx = torch.arange(settings["test_images"]) + TEST_OFFSET
    space = FeatureSpace("new", net.double(), predicts_factors=True)
    raw, pred = space.features_and_factors(test.render_indices(idx))  # un-normalised: mean None
    acc = factor_accuracy(pred, test.factors_for(idx).classes)
    state = {k: v.half() if v.is_floating_point() else v for k, v in net.float().state_dict().items()}
    spread = raw.var(0).mean().sqrt().clamp_min(1e-12)  # one scalar: distances stay Euclidean
    buf = io.BytesIO()
    torch.save({"state_dict": state, "feature_mean": raw.mean(0).float(), "feature_std": spread.float()}, buf)
    data = buf.getvalue()
    atomic_write_bytes(out / file_name(image_size), data)
    manifest = read_manifest(out) if (out / MANIFEST).exists() else {}
    manifest[str(image_size)] = {
        "file": file_name(image_size),
        "sha256": sha256(data),
        "bytes": len(data),
        "settings": settings,
        "heldout_accuracy": acc,
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    atomic_write_json(out / MANIFEST, manifest)
    log(json.dumps(manifest[str(image_size)], indent=1))
    return manifest[str(image_size)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m genlat.metrics.reference_nets",
        description="Train a shipped reference feature net (a new hash: a new feature-space name).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train one net with the fixed recipe and record it in the manifest")
    p.add_argument("--image_size", type=int, choices=sorted(SETTINGS), required=True)
    p.add_argument(
        "--out",
        default="",
        help="folder for the .pt file and manifest.json (default: $GENLAT_WEIGHTS or the package's)",
    )
    args = parser.parse_args(argv)
    train(args.image_size, Path(args.out) if args.out else weights_dir())
    return 0


if __name__ == "__main__":
    sys.exit(main())
