"""A procedural dSprites: a square, ellipse or heart, rendered from ground-truth factors.

dSprites (Matthey et al. 2017) is 64x64 binary images over shape (3), scale (6 values, 0.5-1),
orientation (40 values over a turn) and x, y position (32 values each); its generator was never
released, so this is ours. Each image's factors are a pure function of (seed, index) through an
integer hash, so an index renders the same image in any batch, process or epoch. Rendering is
vectorized over the batch, supersampled for light anti-aliasing, and runs on any device.
One difference from dSprites: orientations are 2*pi*k/40 (dSprites' 40 values include both 0
and 2*pi, the same angle twice).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genlat.data.sampler import ImageSource

SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "orientation", "x", "y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
# Continuous value of each class, per factor (float64 so per-image trig is exact enough to be
# the same in any batch; see `_placement`).
_VALUES = (
    torch.arange(3, dtype=torch.float64),  # shape id
    torch.linspace(0.5, 1.0, 6, dtype=torch.float64),  # scale
    torch.arange(40, dtype=torch.float64) * (2 * math.pi / 40),  # orientation, radians
    torch.linspace(0.0, 1.0, 32, dtype=torch.float64),  # x: 0 = left
    torch.linspace(0.0, 1.0, 32, dtype=torch.float64),  # y: 0 = top
)
RADIUS = 0.24  # circumradius of a scale-1 shape, as a fraction of the image side
MARGIN = 0.28  # centres span [MARGIN, 1 - MARGIN]: a scale-1 shape stays >= 0.04 side from the border
ELLIPSE_MINOR = 0.5  # semi-axes 1 and 0.5: elongated, so its rotation shows
# Square and heart get the ellipse's area (pi/2 in shape units) and fit in the unit circle.
SQUARE_HALF = math.sqrt(math.pi / 8)  # 4 a^2 = pi/2; circumradius 0.89
HEART_AREA = 3.6601  # of (x^2+y^2-1)^3 - x^2 y^3 < 0, measured on a fine grid
HEART_SCALE = math.sqrt((math.pi / 2) / HEART_AREA)  # circumradius 1.25 * 0.655 = 0.82
HEART_CENTRE = 0.25  # y of the curve's smallest enclosing circle's centre; the heart turns about it
SUPERSAMPLE = 128  # sample points per image side before averaging down: 4x4 per pixel at 32, 2x2 at 64

_GOLDEN = 0x9E3779B97F4A7C15 - (1 << 64)  # splitmix64 constants as int64 (same bits)
_MUL1 = 0xBF58476D1CE4E5B9 - (1 << 64)
_MUL2 = 0x94D049BB133111EB - (1 << 64)


@dataclass
class Factors:
    """Ground truth of a batch, in FACTOR_NAMES order: class indices and their continuous values."""

    classes: torch.Tensor  # (B, 5) int64: shape 0..2, scale 0..5, orientation 0..39, x 0..31, y 0..31
    values: torch.Tensor  # (B, 5) float64: shape id, scale 0.5..1, orientation [0, 2pi), x and y in [0, 1]

    @classmethod
    def from_classes(cls, classes: torch.Tensor) -> Factors:
        """Factors of chosen class indices (B, 5), e.g. a traversal of one factor."""
        values = torch.stack([table[c] for table, c in zip(_tables(classes.device)[0], classes.T)], dim=1)
        return cls(classes, values)

    def __len__(self) -> int:
        return self.classes.shape[0]

    def __getitem__(self, name: str) -> torch.Tensor:
        """The class indices of one factor, e.g. factors["shape"]: (B,) int64."""
        return self.classes[:, FACTOR_NAMES.index(name)]


@functools.cache
def _tables(device: torch.device) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """_VALUES and each shape's (u stretch, v stretch, v shift) (3, 3) on `device`, float64: copied
    once per device, since a copy from host memory in every batch would stall a GPU's queue."""
    stretch = torch.tensor([[su, sv, shift] for _, su, sv, shift in _SHAPES], dtype=torch.float64)
    return tuple(t.to(device) for t in _VALUES), stretch.to(device)


def compute_device(device) -> torch.device:
    """Where the renderer does its float64 and integer maths: on a CUDA device the whole batch stays
    there (no host sync in a training step); elsewhere the CPU (MPS, for one, has no float64)."""
    device = torch.device(device if device is not None else "cpu")
    return device if device.type == "cuda" else torch.device("cpu")


def _shr(z: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's >> is arithmetic: it copies the sign bit)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def splitmix64(z: torch.Tensor) -> torch.Tensor:
    """Vectorized splitmix64 finalizer on int64 tensors (multiplies wrap, as in uint64)."""
    z = z + _GOLDEN
    z = (z ^ _shr(z, 30)) * _MUL1
    z = (z ^ _shr(z, 27)) * _MUL2
    return z ^ _shr(z, 31)


def sample_factors(indices, seed: int = 0) -> Factors:
    """The factors of images `indices` (B,) of the dataset `seed`: uniform, independent per factor."""
    idx = torch.as_tensor(indices, dtype=torch.int64)
    key = splitmix64(idx ^ splitmix64(torch.full_like(idx, seed & (2**63 - 1))))  # (B,) one stream per image
    classes = torch.stack(
        [_shr(splitmix64(key + k), 1) % n for k, n in enumerate(FACTOR_SIZES)], dim=1
    )  # (B, 5); modulo of a 63-bit value: bias < 2^-57
    return Factors.from_classes(classes)


def _square(u, v):
    return torch.maximum(u.abs(), v.abs()) < SQUARE_HALF


def _ellipse(u, v):  # v arrives divided by ELLIPSE_MINOR
    return u * u + v * v < 1


def _heart(x, y):  # arrives divided by HEART_SCALE and shifted by HEART_CENTRE
    x2 = x * x
    r = x2 + y * y - 1
    return r * r * r < x2 * y * y * y


# Per shape: how shape coordinates are stretched (u, v) and shifted (v) before its test.
_SHAPES = (
    (_square, 1.0, 1.0, 0.0),
    (_ellipse, 1.0, 1 / ELLIPSE_MINOR, 0.0),
    (_heart, 1 / HEART_SCALE, 1 / HEART_SCALE, HEART_CENTRE),
)


def _placement(factors: Factors, size: int, window: int, work: torch.device) -> torch.Tensor:
    """Per image, in float64 on `work` (vectorized and scalar trig can differ in the last bit;
    rounding to float32 later hides that, so an image does not depend on its batch; a GPU's trig
    may still differ from the CPU's in rare edge pixels): the window's top-left pixel (ox, oy), the
    shape centre (cx, cy) in window pixels, and cos/scale, sin/scale in 1/pixels. (B, 6)"""
    v = factors.values.detach().to(work, torch.float64)
    scale, theta, x, y = v[:, 1], v[:, 2], v[:, 3], v[:, 4]
    px = (MARGIN + (1 - 2 * MARGIN) * x) * size  # centre in image pixels, from the left
    py = (MARGIN + (1 - 2 * MARGIN) * y) * size  # from the top
    reach = RADIUS * size
    ox = (px - reach).floor().clamp(0, size - window)
    oy = (py - reach).floor().clamp(0, size - window)
    s = scale * reach  # pixels per shape unit
    return torch.stack([ox, oy, px - ox, py - oy, theta.cos() / s, theta.sin() / s], dim=1)


def _picked(along_cols, along_rows, sel, stretch, shift, device):
    """The selected images' column and row terms, stretched and shifted, as float32 on `device`."""
    cols = (along_cols[sel] * stretch).to(device, torch.float32).unsqueeze(1)  # (b, 1, m)
    rows = (along_rows[sel] * stretch + shift).to(device, torch.float32).unsqueeze(2)  # (b, m, 1)
    return cols, rows


def _coverage(ux, uy, vx, vy, shape, device) -> torch.Tensor:
    """(B, m, m) inside-the-shape samples, each shape's test on its own images (a loop over the 3
    shapes, not the images)."""
    win = torch.zeros(len(shape), ux.shape[1], ux.shape[1], device=device)
    for k, (inside, su, sv, shift) in enumerate(_SHAPES):
        sel = (shape == k).nonzero().squeeze(1)
        if sel.numel() == 0:
            continue
        cols, rows = _picked(ux, uy, sel, su, 0.0, device)  # (b, 1, m), (b, m, 1)
        u = cols + rows  # (b, m, m): [image, row, column]
        cols, rows = _picked(vx, vy, sel, sv, shift, device)
        v = cols + rows
        win[sel.to(device)] = inside(u, v).float()
    return win


def _masked_coverage(ux, uy, vx, vy, shape, device) -> torch.Tensor:
    """The same samples with every test on every image, each image keeping its own shape's."""
    stretch = _tables(shape.device)[1][shape]  # (B, 3): u stretch, v stretch, v shift of each image's shape
    su, sv, shift = stretch[:, 0:1], stretch[:, 1:2], stretch[:, 2:3]
    every = slice(None)
    cols, rows = _picked(ux, uy, every, su, torch.zeros_like(su), device)
    u = cols + rows  # (B, m, m)
    cols, rows = _picked(vx, vy, every, sv, shift, device)
    v = cols + rows
    kind = shape.to(device).view(-1, 1, 1)
    return torch.where(kind == 2, _heart(u, v), torch.where(kind == 1, _ellipse(u, v), _square(u, v))).float()


def render(factors: Factors, size: int, device=None, masked: bool | None = None) -> torch.Tensor:
    """Images (B, 1, size, size) in [0, 1] on `device` (default: where the factors are).

    Each shape is drawn only in a window around it (a scale-1 shape's bounding square), with
    ss x ss samples per pixel averaged for anti-aliasing, then pasted into the image.
    `masked` (default: on a CUDA device) tests every shape on every image and keeps each image's
    own, instead of selecting each shape's images: no data-dependent sizes, so no host sync; the
    pixels are the same either way."""
    device = factors.values.device if device is None else torch.device(device)
    work = compute_device(device)
    masked = work.type == "cuda" if masked is None else masked
    ss = max(1, SUPERSAMPLE // size)
    w = min(size, math.ceil(2 * RADIUS * size) + 1)  # window side in pixels
    m = w * ss  # samples per window side
    place = _placement(factors, size, w, work)  # (B, 6) float64
    t = (torch.arange(m, dtype=torch.float64, device=work) + 0.5) / ss  # (m,) sample centres in window pixels
    dx = t.view(1, m) - place[:, 2:3]  # (B, m) right of the centre
    dy = place[:, 3:4] - t.view(1, m)  # (B, m) above the centre (rows go down)
    cos, sin = place[:, 4:5], place[:, 5:6]  # (B, 1)
    # Shape coordinates (rotate by -theta, unscale) as separable row + column terms:
    # u = cos*dx + sin*dy, v = cos*dy - sin*dx; only the final sums are (B, m, m).
    ux, uy, vx, vy = cos * dx, sin * dy, -sin * dx, cos * dy  # each (B, m)
    shape = factors.classes[:, 0].to(work)  # (B,)
    win = _masked_coverage(ux, uy, vx, vy, shape, device) if masked else _coverage(ux, uy, vx, vy, shape, device)
    win = F.avg_pool2d(win.unsqueeze(1), ss).squeeze(1)  # (B, w, w)
    img = torch.zeros(len(factors), size, size, device=device)
    ar = torch.arange(w, device=work)
    rows = (place[:, 1:2].long() + ar).to(device)  # (B, w)
    cols = (place[:, 0:1].long() + ar).to(device)
    batch = torch.arange(len(factors), device=device).view(-1, 1, 1)
    img[batch, rows.unsqueeze(2), cols.unsqueeze(1)] = win
    return img.unsqueeze(1)  # (B, 1, size, size)


class ShapesSource(ImageSource):
    """`size` images with indices 0..size-1 of the procedural dataset `data_seed`, rendered per
    batch on the device. The data seed is fixed (0) by default, so every run sees the same
    training set, like dSprites; the run's seed only shuffles it. Indices >= size are held out."""

    has_factors = True

    def __init__(self, size: int, image_size: int, seed: int = 0, channels: int = 1, data_seed: int = 0):
        self.name, self.size, self.image_size = "shapes", size, image_size
        self.seed, self.data_seed = seed, data_seed
        self.channels = 3 if channels == 3 else 1

    @classmethod
    def from_config(cls, cfg) -> ShapesSource:
        return cls(cfg.epoch_size, cfg.image_size, cfg.seed, cfg.channels)

    def factors_for(self, indices) -> Factors:
        return sample_factors(indices, self.data_seed)

    def render_indices(self, indices, device=None) -> torch.Tensor:
        """Images `indices` exactly as `batches` yields them: (B, C, H, W) float32 in [-1, 1]."""
        img = render(self.factors_for(indices), self.image_size, device or "cpu") * 2 - 1  # (B, 1, H, W)
        return img.repeat(1, self.channels, 1, 1) if self.channels > 1 else img

    def batches(self, epoch, batch_size, rank=0, world_size=1, device=None):
        indices = self.epoch_indices(epoch, batch_size, rank, world_size)
        if indices:  # one copy of the epoch's indices to a GPU, none per step
            yield from (self.render_indices(idx, device) for idx in torch.stack(indices).to(compute_device(device)))

    def held_out(self, n: int) -> torch.Tensor:
        """Indices size..size+n-1: never in a training batch, rendered exactly as batches are."""
        return self.render_indices(torch.arange(n) + len(self))
