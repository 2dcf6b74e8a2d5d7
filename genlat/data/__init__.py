"""Where training images come from: `build_source(cfg)` gives an ImageSource for cfg.dataset.

An ImageSource (see sampler.py) has a name, channels (1 or 3), len() images per epoch,
steps_per_epoch(batch_size, world_size), batches(epoch, batch_size, rank, world_size, device)
yielding float32 (B, C, H, W) in [-1, 1] on the device, the same ones for the same
(seed, epoch, rank, world_size) in any process, and held_out(n): real images training does not see.
"""

from __future__ import annotations

from genlat.data.sampler import ImageSource, epoch_batches, epoch_generator, steps_per_epoch
from genlat.data.shapes import FACTOR_NAMES, FACTOR_SIZES, SHAPES, Factors, ShapesSource, render, sample_factors
from genlat.errors import DataError

__all__ = [
    "build_source",
    "check_evaluable",
    "MIN_EVAL_IMAGES",
    "ImageSource",
    "ShapesSource",
    "FileSource",
    "FolderImages",
    "Factors",
    "sample_factors",
    "render",
    "epoch_batches",
    "epoch_generator",
    "steps_per_epoch",
    "image_transform",
    "torchvision_dataset",
    "OFFLINE_ENV",
    "SHAPES",
    "FACTOR_NAMES",
    "FACTOR_SIZES",
]


_FILES = ("OFFLINE_ENV", "FileSource", "FolderImages", "image_transform", "torchvision_dataset")


def __getattr__(name: str):
    """The file datasets' names on first use: files.py imports torchvision (≈1 CPU-s), which a
    shapes run never needs."""
    if name in _FILES:
        from genlat.data import files

        return getattr(files, name)
    raise AttributeError(f"module 'genlat.data' has no attribute {name!r}")


MIN_EVAL_IMAGES = 20  # a file dataset's feature net holds out one image in ten to check itself, and a spread needs two


def check_evaluable(source: ImageSource, evaluating: bool = True) -> None:
    """Refuse evaluating a file dataset too small to measure (exit 3, before anything is created): with
    fewer than 20 images the rotation feature net's held-out split is one image, its spread NaN, and the
    first evaluation crashed inside the linear algebra (a segfault in oneMKL)."""
    if source.has_factors or not evaluating:
        return
    items = len(getattr(source, "dataset", source))
    if items < MIN_EVAL_IMAGES:
        raise DataError(
            f"{source.name} has {items} images; evaluation needs at least {MIN_EVAL_IMAGES} (its "
            "feature net holds out one in ten to check itself): add images, or pass --eval_every 0 "
            "to train without evaluation"
        )


def build_source(cfg) -> ImageSource:
    """The ImageSource for a TrainConfig; a DataError (one line) when the data is missing or unreadable.

    channels: cfg.channels when set (1 or 3), else the dataset's own (shapes, mnist and
    fashion-mnist 1; cifar10, celeba and folders 3). Call it on the main process first in
    multi-process runs, so that only one process downloads.
    """
    if cfg.dataset == "shapes":
        return ShapesSource.from_config(cfg)
    from genlat.data.files import FileSource

    return FileSource.from_config(cfg)
