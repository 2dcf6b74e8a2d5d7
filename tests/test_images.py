"""The epoch series' pictures: genlat's own grid is torchvision's make_grid, pixel for pixel."""

import pytest
import torch
from einops import rearrange

from genlat.images import grid_array, to_uint8


@pytest.mark.parametrize(
    "shape, nrow", [((16, 1, 32, 32), 4), ((10, 3, 8, 8), 4), ((3, 1, 5, 7), 8), ((2, 1, 4, 4), 1)]
)
def test_grid_matches_torchvisions_make_grid(shape, nrow):
    from torchvision.utils import make_grid  # the layout users know; genlat no longer imports it at run time

    torch.manual_seed(0)
    images = torch.rand(shape) * 2 - 1
    expected = rearrange(make_grid(to_uint8(images), nrow=nrow, padding=2, pad_value=255), "c h w -> h w c").numpy()
    got = grid_array(images, nrow)
    assert got.shape == expected.shape and (got == expected).all()


def test_a_panel_stacked_from_its_rows_is_the_panel():
    """W&B holds a panel as one picture per row (the run's table); stacked back (analysis/load/wandb.py)
    it is the run's own panel pixel for pixel: one border between rows, not two."""
    from genlat.grids import stack_rows
    from genlat.images import panel_array

    torch.manual_seed(0)
    paths = torch.rand(3, 5, 1, 8, 8) * 2 - 1  # 3 pairs, 5 steps
    rows = [panel_array(paths[i : i + 1]) for i in range(3)]
    assert (stack_rows(rows) == panel_array(paths)).all()
    assert stack_rows(rows).shape[0] == 3 * (8 + 2) + 2
