"""Turn generator outputs into the PNGs of the epoch series and the interpolation panels."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from einops import rearrange, repeat
from PIL import Image

from genlat.atomic import atomic_write_bytes
from genlat.grids import PADDING


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(..., C, H, W) in [-1, 1] -> uint8 in [0, 255] on the CPU."""
    return ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def grid_array(images: torch.Tensor, nrow: int, padding: int = PADDING) -> np.ndarray:
    """(B, C, H, W) in [-1, 1] -> an (H', W', 3) uint8 picture, `nrow` images per row, white borders:
    the layout of torchvision's make_grid (pixel for pixel, tested), without importing torchvision."""
    x = to_uint8(images)
    if x.shape[1] == 1:
        x = repeat(x, "b 1 h w -> b c h w", c=3)  # make_grid's grids are RGB
    b, c, h, w = x.shape
    cols = min(nrow, b)
    rows = -(-b // cols)
    cells = torch.full((rows * cols, c, h + padding, w + padding), 255, dtype=torch.uint8)
    cells[:b, :, padding:, padding:] = x  # each image after its cell's top and left border
    grid = rearrange(cells, "(r k) c h w -> (r h) (k w) c", k=cols).numpy()
    return np.pad(grid, ((0, padding), (0, padding), (0, 0)), constant_values=255)  # the bottom and right border


def panel_array(paths: torch.Tensor) -> np.ndarray:
    """(pairs, steps, C, H, W) -> one picture with a row per endpoint pair."""
    pairs, steps = paths.shape[:2]
    return grid_array(rearrange(paths, "p t c h w -> (p t) c h w"), nrow=steps)


def save_png(array: np.ndarray, path: Path) -> None:
    """Write an (H, W, C) uint8 array as PNG atomically (grayscale stays one channel)."""
    img = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
