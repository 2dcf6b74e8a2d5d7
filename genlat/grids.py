"""The image grids a run draws after every epoch, each declared once: the epoch-series table's column,
the run directory's folder, the metrics.jsonl key of its PNG and the W&B image key. The run, the
tracker, the temp-file sweep and the report all read these; none spells a grid's name itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PADDING = 2  # the white border around every image of a grid (torchvision's make_grid default)


@dataclass(frozen=True)
class Grid:
    column: str  # column of the epoch-series table
    folder: str  # RUN/<folder>/epoch_NNN.png
    row_key: str  # metrics.jsonl key: the PNG's path inside the run directory
    wandb_key: str  # the epoch's image in W&B


SAMPLES = Grid("grid", "samples", "sample_grid", "samples")  # the fixed latent bank's images, every family
RECONSTRUCTIONS = Grid("reconstruction", "reconstructions", "reconstruction_grid", "reconstructions")  # VAE
ALL_GRIDS = (SAMPLES, RECONSTRUCTIONS)


def stack_rows(rows: list[np.ndarray], padding: int = PADDING) -> np.ndarray:
    """Grid pictures of one row each (as grid_array draws them) stacked into the grid of all their
    rows, pixel for pixel: a row's top border is the bottom border of the row above, so it is dropped."""
    return np.concatenate([rows[0], *(r[padding:] for r in rows[1:])], axis=0)
