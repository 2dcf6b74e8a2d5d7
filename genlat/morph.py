"""The interpolation morph as an animation: the rows of interpolation panels (genlat.images.panel_array)
cut back into their images and played as an animated GIF (Pillow), frame j showing step j of every
pair, forward and back. The run writes one per method at its end (W&B: a wandb.Video); the report
(analysis/figures.morph_gif) makes its own from the same panels, through the same code."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from genlat.atomic import atomic_write_bytes
from genlat.grids import PADDING

PAD = PADDING  # the white border (255) around every image of a grid


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def tiles(grid: np.ndarray, nrow: int, count: int) -> list[np.ndarray]:
    """The first `count` images of a grid picture (nrow per row, PAD pixels around each)."""
    size = (grid.shape[1] - PAD) // nrow - PAD  # grid width = nrow * (size + PAD) + PAD
    out = []
    for i in range(count):
        r, c = divmod(i, nrow)
        y, x = PAD + r * (size + PAD), PAD + c * (size + PAD)
        if y + size > grid.shape[0]:
            break
        out.append(grid[y : y + size, x : x + size])
    return out


def strip(images: list[np.ndarray], axis: int) -> np.ndarray:
    """Images in a row (axis=1) or column (axis=0) with a white PAD gap between them."""
    gap_shape = list(images[0].shape)
    gap_shape[axis] = PAD
    gap = np.full(gap_shape, 255, dtype=np.uint8)
    parts = []
    for img in images:
        parts += [img, gap]
    return np.concatenate(parts[:-1], axis=axis)


def frames(panels: list[Path], steps: int, scale: int = 2) -> list[Image.Image]:
    """panels: interpolation panel PNGs (a row per endpoint pair, `steps` images per row). Frame j: step j
    of every pair side by side, one row per panel; steps 0 … T-1, then back to 1 (a loop without a stall)."""
    rows = []
    for png in panels:
        grid = load_rgb(png)
        cell = (grid.shape[1] - PAD) // steps  # an image and its gap
        cells = tiles(grid, steps, (grid.shape[0] - PAD) // cell * steps) if cell > PAD else []
        if len(cells) < steps:  # images of no pixel, or not one row of them
            raise ValueError(f"{png}: {grid.shape[1]}x{grid.shape[0]} pixels hold no row of {steps} images")
        rows.append([cells[p * steps : (p + 1) * steps] for p in range(len(cells) // steps)])
    out = []
    for j in list(range(steps)) + list(range(steps - 2, 0, -1)):
        picture = strip([strip([pair[j] for pair in row], axis=1) for row in rows], axis=0)
        size = (picture.shape[1] * scale, picture.shape[0] * scale)
        out.append(Image.fromarray(picture).resize(size, Image.NEAREST))
    return out


def gif_bytes(panels: list[Path], steps: int, scale: int = 2, ms: int = 250) -> bytes:
    """The morph of `panels` as the bytes of an endlessly looping GIF, `ms` milliseconds a frame."""
    first, *rest = frames(panels, steps, scale)
    buf = io.BytesIO()
    first.save(buf, format="GIF", save_all=True, append_images=rest, duration=ms, loop=0, optimize=False)
    return buf.getvalue()


def write_gif(panels: list[Path], steps: int, path: Path, scale: int = 2, ms: int = 250) -> Path:
    """gif_bytes written atomically (genlat.atomic): a reader sees the old GIF or the new one."""
    atomic_write_bytes(path, gif_bytes(panels, steps, scale, ms))
    return path
