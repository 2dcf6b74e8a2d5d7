"""Image files as an ImageSource: torchvision's datasets (mnist, fashion-mnist, cifar10, celeba)
and `folder:PATH` (every image under a folder).

torchvision datasets are read from `data_dir` first and downloaded there only when missing;
set GENLAT_OFFLINE=1 to skip the download attempt (tests do, so they never touch the network).
Every failure a user can fix -- missing, empty, unreadable or corrupt data -- is a one-line
DataError saying where the files must go.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

from genlat.cli_args import user_path
from genlat.data.sampler import ImageSource
from genlat.errors import DataError

log = logging.getLogger(__name__)

OFFLINE_ENV = "GENLAT_OFFLINE"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
# name: (torchvision class, its arguments, where its files live under data_dir, own channels)
TORCHVISION = {
    "mnist": ("MNIST", {"train": True}, "MNIST/raw", 1),
    "fashion-mnist": ("FashionMNIST", {"train": True}, "FashionMNIST/raw", 1),
    "cifar10": ("CIFAR10", {"train": True}, "cifar-10-batches-py", 3),
    "celeba": ("CelebA", {"split": "train", "target_type": []}, "celeba", 3),
}


class ToMode:
    """Convert a PIL image to "L" or "RGB" (a class, not a lambda, so DataLoader workers can pickle it)."""

    def __init__(self, mode: str):
        self.mode = mode

    def __call__(self, img: Image.Image) -> Image.Image:
        return img if img.mode == self.mode else img.convert(self.mode)


def image_transform(size: int, channels: int) -> T.Compose:
    """PIL image -> float32 (channels, size, size) in [-1, 1]: shorter side resized, centre-cropped."""
    return T.Compose(
        [
            ToMode("L" if channels == 1 else "RGB"),
            T.Resize(size, antialias=True),
            T.CenterCrop(size),
            T.ToTensor(),
            T.Normalize([0.5] * channels, [0.5] * channels),
        ]
    )


def _why(e: BaseException) -> str:
    """A short one-line reason from an exception."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    text = " ".join(lines)
    return f"{type(e).__name__}: {text[:160]}{'...' if len(text) > 160 else ''}" if text else type(e).__name__


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _has_files(path: str) -> bool:
    return any(files for _, _, files in os.walk(path))


def torchvision_dataset(name: str, data_dir: str, transform) -> Dataset:
    """torchvision's training split of `name` from data_dir, downloaded there if missing and allowed."""
    cls_name, kwargs, sub, _ = TORCHVISION[name]
    cls = getattr(torchvision.datasets, cls_name)
    where = os.path.join(data_dir, sub)
    # torchvision says "not found" with a RuntimeError, but corrupt files raise almost anything
    # (AssertionError, ValueError, UnpicklingError, OSError, ...), hence the broad excepts.
    try:
        return cls(data_dir, download=False, transform=transform, **kwargs)
    except Exception as e:
        local_error = download_error = e
    if not offline():  # download=True also unpacks archives already in place, with no network
        try:
            return cls(data_dir, download=True, transform=transform, **kwargs)
        except Exception as e:
            download_error = e
    if _has_files(where):
        raise DataError(
            f"{name} files in {where} could not be read ({_why(local_error)}): replace them with intact "
            "copies, or delete that folder to download them again"
        ) from local_error
    if offline():
        raise DataError(
            f"{name} not found in {where} and {OFFLINE_ENV} forbids downloading it: "
            f"copy the files into {where}, or unset {OFFLINE_ENV} to download them"
        ) from local_error
    raise DataError(
        f"{name} not found in {where} and it could not be downloaded ({_why(download_error)}): "
        f"download it on a machine with network, or copy the files into {where}"
    ) from download_error


@contextlib.contextmanager
def open_image(path: str) -> Iterator[Image.Image]:
    """A regular file opened as an image. Anything else named like an image (a FIFO, a device, a
    socket) raises OSError instead of being read: reading a FIFO blocks until someone writes to it,
    so one `x.png` FIFO hung a run forever. The open itself cannot block (O_NONBLOCK)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        os.set_blocking(fd, True)
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f, Image.open(f) as img:
        yield img


def _readable(path: str) -> bool:
    try:
        with open_image(path) as img:
            img.verify()  # cheap: checks structure and checksums without decoding every pixel
        return True
    except Exception:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError, ...
        return False


def _is_regular(path: str) -> bool:
    """A regular file (through links): only those are images; a FIFO or a device never is."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


class FolderImages(Dataset):
    """Every readable image under `root`, recursively, in sorted path order; unreadable ones are
    skipped with one warning. Items are transformed images (no labels)."""

    def __init__(self, root: str, transform):
        self.root, self.transform = root, transform
        if not os.path.exists(root):
            raise DataError(f"folder {root} does not exist: check the path after folder:")
        if not os.path.isdir(root):
            raise DataError(f"{root} is not a folder: give folder:PATH a directory of images")
        found = sorted(  # a FIFO, socket or device named x.png is counted as unreadable, never opened
            os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f.lower().endswith(IMAGE_EXTENSIONS)
        )
        if not found:
            raise DataError(
                f"no image files ({', '.join(IMAGE_EXTENSIONS)}) under {root}: put the training images there"
            )
        with ThreadPoolExecutor(max_workers=8) as pool:  # overlaps the file reads
            ok = list(pool.map(lambda p: _is_regular(p) and _readable(p), found))
        self.paths = [p for p, good in zip(found, ok) if good]
        if not self.paths:
            raise DataError(
                f"none of the {len(found)} image files under {root} could be read: check they are intact images"
            )
        skipped = len(found) - len(self.paths)
        if skipped:
            first = next(p for p, good in zip(found, ok) if not good)
            log.warning(
                "skipped %d unreadable image file(s) in %s (e.g. %s)", skipped, root, os.path.relpath(first, root)
            )

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.load(i)[0]

    def load(self, i: int) -> tuple[torch.Tensor, tuple[str, ...]]:
        """Image i and the files that failed to decode on the way to it. A file can pass verify()
        and still not decode (a damaged zlib stream, a truncated JPEG): it is skipped, and the next
        image takes its place, so a batch keeps its size and every rank its number of steps."""
        bad: list[str] = []
        for j in range(len(self.paths)):
            path = self.paths[(i + j) % len(self.paths)]
            try:
                with open_image(path) as img:
                    return self.transform(img), tuple(bad)
            except Exception:  # PIL raises OSError, SyntaxError, ValueError, zlib.error, ...
                bad.append(path)
        raise DataError(
            f"none of the {len(self.paths)} image files under {self.root} decode: check they are intact images"
        )


class _WithSkips(Dataset):
    """Items as (image, files skipped to reach it): the skips travel with the batch out of
    DataLoader workers, so the main process can count them (a worker's own counter is lost)."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int):
        if isinstance(self.dataset, FolderImages):
            return self.dataset.load(i)
        item = self.dataset[i]
        return (item[0] if isinstance(item, (tuple, list)) else item), ()


def _collate(items) -> tuple[torch.Tensor, list[str]]:
    """(image, skipped) pairs -> (B, C, H, W) and every skipped file of the batch."""
    return torch.stack([image for image, _ in items]), [p for _, skipped in items for p in skipped]


class FileSource(ImageSource):
    """A map-style dataset of images, capped at `epoch_size` images: an evenly spaced subset
    (every len/epoch_size-th item, the same in every run), so a capped folder sorted by class
    still spans all classes. Batches come through a DataLoader with the epoch sampler."""

    def __init__(self, name, dataset, image_size, channels, epoch_size, seed=0, num_workers=0):
        if len(dataset) < 2:  # the collapse rule's yardstick and the evaluation compare real images
            raise DataError(f"{name} has {len(dataset)} image(s); genlat needs at least 2: add images")
        self.name, self.dataset, self.image_size, self.channels = name, dataset, image_size, channels
        self.seed, self.num_workers = seed, num_workers
        self.undecodable: set[str] = set()  # files found undecodable while loading, warned about once each
        self.size = min(epoch_size, len(dataset))
        self.subset = torch.arange(self.size) * len(dataset) // self.size  # (size,) dataset indices

    @classmethod
    def from_config(cls, cfg) -> FileSource:
        if cfg.dataset.startswith("folder:"):
            root = user_path(cfg.dataset[len("folder:") :])
            channels = cfg.channels or 3
            dataset = FolderImages(root, image_transform(cfg.image_size, channels))
        else:
            channels = cfg.channels or TORCHVISION[cfg.dataset][3]
            dataset = torchvision_dataset(cfg.dataset, cfg.data_dir, image_transform(cfg.image_size, channels))
        return cls(cfg.dataset, dataset, cfg.image_size, channels, cfg.epoch_size, cfg.seed, cfg.num_workers)

    def batches(self, epoch, batch_size, rank=0, world_size=1, device=None):
        index_batches = [self.subset[b].tolist() for b in self.epoch_indices(epoch, batch_size, rank, world_size)]
        device = torch.device(device or "cpu")
        loader = DataLoader(
            _WithSkips(self.dataset),
            batch_sampler=index_batches,
            num_workers=self.num_workers,
            collate_fn=_collate,
            pin_memory=device.type == "cuda",
        )
        for images, skipped in loader:  # (B, C, H, W) float32 in [-1, 1]
            self._count(skipped)
            yield images.to(device, non_blocking=True)

    def held_out(self, n: int) -> torch.Tensor:
        """The items outside the epoch's subset when there are at least n, else the whole dataset's."""
        enough = len(self.dataset) - len(self.subset) >= n
        return self.spread(n, exclude=self.subset if enough else None)

    def spread(self, k: int, exclude: torch.Tensor | None = None) -> torch.Tensor:
        """Up to k evenly spaced images (K, C, H, W) of the whole dataset, leaving out the dataset
        indices `exclude`: a sample of every part of a folder sorted by class."""
        pool = torch.arange(len(self.dataset))
        if exclude is not None:
            keep = torch.ones(len(pool), dtype=torch.bool)
            keep[exclude] = False
            pool = pool[keep]
        k = min(k, len(pool))
        items = [self.dataset[int(i)] for i in pool[torch.arange(k) * len(pool) // k]]
        return torch.stack([it[0] if isinstance(it, (tuple, list)) else it for it in items])

    def _count(self, skipped: list[str]) -> None:
        new = sorted(set(skipped) - self.undecodable)
        if new:
            self.undecodable.update(new)
            log.warning(
                "skipped %d image file(s) that passed the check but do not decode (%d so far; e.g. %s): "
                "remove or replace them",
                len(new),
                len(self.undecodable),
                new[0],
            )
