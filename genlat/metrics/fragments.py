"""Fragmentation, for the study's claim that at zn = 500 the images come out "segmented" (Q1b).

Each image's foreground is its pixels above the midpoint of the image range (0 for [-1, 1]); its
pieces are the 8-connected components of that foreground. Every real shapes image is one piece,
so `fragments_mean` near 1 and `fragmented_share` near 0 look like the data.

A piece counts only from MIN_PIECE of the smallest real shape's area up: a scale-0.5 shape covers
pi/2 (0.24 * 0.5 * S)^2 pixels (23 at 32 px, 91 at 64 px), so a piece needs 3 (32 px) or 12 (64 px)
pixels. Smaller specks are GAN noise one does not see as a separate part; a shape split in two
leaves pieces well above it.

Images on the CPU (an evaluation's) are labelled by scipy.ndimage.label, one call for the whole
stack (a 3x3x3 structure that links pixels of the same image only): a tenth of the time of the
torch labelling below, the same counts (tested). Images on a GPU are labelled there, batched over
the images: each foreground pixel starts with its own id and takes the largest id among its 3x3
neighbours, with pointer jumping, until nothing changes (at most ~20 rounds on 32 px GAN samples;
images drop out of the batch once settled).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from genlat.data.shapes import RADIUS

MIN_PIECE = 1 / 8  # of the smallest real shape's area


def min_piece_pixels(image_size: int) -> int:
    """The smallest piece that counts: MIN_PIECE of a scale-0.5 shape's area (pi/2 in shape units)."""
    smallest = math.pi / 2 * (RADIUS * 0.5 * image_size) ** 2
    return max(1, math.ceil(MIN_PIECE * smallest))


def _grow(labels: torch.Tensor, fg: torch.Tensor) -> torch.Tensor:
    """One round on (B, 1, H, W) labels: the 3x3 maximum, then pointer jumping (take the label of
    the pixel my label names: same piece, label >= mine), so a label crosses a piece in
    O(log length) rounds instead of one pixel per round."""
    h = labels.shape[2]
    flat = rearrange(torch.where(fg, F.max_pool2d(labels, 3, stride=1, padding=1), 0.0), "b 1 h w -> b (h w)")
    jumped = flat.gather(1, (flat.long() - 1).clamp_min(0))
    return torch.where(fg, rearrange(jumped, "b (h w) -> b 1 h w", h=h), 0.0)


def label_components(mask: torch.Tensor) -> torch.Tensor:
    """(N, H, W) bool -> (N, H, W) int64 labels: 0 background, each 8-connected piece of an image
    one id > 0 (ids are per image)."""
    n, h, w = mask.shape
    fg = rearrange(mask, "n h w -> n 1 h w")
    ids = torch.arange(1, h * w + 1, device=mask.device, dtype=torch.float32).view(1, 1, h, w)  # exact below 2^24
    labels = torch.where(fg, ids, 0.0)
    active = torch.arange(n, device=mask.device)  # images whose labels still change
    while len(active):
        before = labels[active]
        grown = _grow(before, fg[active])
        labels[active] = grown
        active = active[(grown != before).flatten(1).any(1)]
    return rearrange(labels, "n 1 h w -> n h w").long()


def count_pieces(images: torch.Tensor, min_pixels: int = 1, threshold: float = 0.0) -> torch.Tensor:
    """(N, C, H, W) images -> (N,) number of 8-connected foreground pieces of >= min_pixels pixels
    (channels averaged first)."""
    mask = images.float().mean(1) > threshold  # (N, H, W)
    return (_count_pieces_cpu if mask.device.type == "cpu" else _count_pieces_torch)(mask, min_pixels)


def _count_pieces_torch(mask: torch.Tensor, min_pixels: int) -> torch.Tensor:
    """`count_pieces` of a (N, H, W) bool mask on its own device, by `label_components`."""
    labels = rearrange(label_components(mask), "n h w -> n (h w)")
    n, hw = labels.shape
    offset = torch.arange(n, device=labels.device).view(-1, 1) * (hw + 1)  # one bin per (image, label)
    sizes = torch.bincount((labels + offset).flatten(), minlength=n * (hw + 1)).view(n, hw + 1)[:, 1:]
    return (sizes >= min_pixels).sum(1).cpu()


def _count_pieces_cpu(mask: torch.Tensor, min_pixels: int) -> torch.Tensor:
    """`count_pieces` of a (N, H, W) bool mask on the CPU: scipy labels the whole stack at once,
    8-connected within each image and never across images."""
    from scipy import ndimage  # ≈ 0.25 CPU-s, on the first evaluation only

    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True  # the 3x3 neighbourhood in the image plane; nothing to the images before or after
    labels, count = ndimage.label(mask.numpy(), structure=structure)  # ids unique over the stack
    flat = labels.reshape(len(mask), -1)  # (N, H*W)
    image, pixel = np.nonzero(flat)
    image_of = np.zeros(count + 1, dtype=np.int64)
    image_of[flat[image, pixel]] = image  # each piece lies in one image
    kept = np.bincount(flat.ravel(), minlength=count + 1) >= min_pixels  # (count + 1,) by size
    kept[0] = False  # the background
    return torch.from_numpy(np.bincount(image_of[kept], minlength=len(mask)))


def fragmentation(images: torch.Tensor, min_pixels: int | None = None) -> dict[str, float]:
    """{"fragments_mean": mean pieces per image, "fragmented_share": share of images with >= 2}."""
    pieces = count_pieces(images, min_piece_pixels(images.shape[-1]) if min_pixels is None else min_pixels)
    return {"fragments_mean": float(pieces.float().mean()), "fragmented_share": float((pieces >= 2).float().mean())}
