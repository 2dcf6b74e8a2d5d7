"""The morph GIF (genlat/morph.py): the report's (analysis/figures.morph_gif) is the same bytes as the GIF
the report made before the maker moved into genlat, and its frames are the panel's own images, step by
step, forward and back."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from analysis import figures
from genlat import morph
from genlat.images import panel_array, save_png

PAIRS, STEPS, SIZE = 3, 5, 16


def _before(panels, steps, path, scale=2, ms=250):
    """analysis/figures.morph_gif as it was before the move (commit b531b9c), with its helpers inlined."""
    pad = 2

    def tiles(grid, nrow, count):
        size = (grid.shape[1] - pad) // nrow - pad
        out = []
        for i in range(count):
            r, c = divmod(i, nrow)
            y, x = pad + r * (size + pad), pad + c * (size + pad)
            if y + size > grid.shape[0]:
                break
            out.append(grid[y : y + size, x : x + size])
        return out

    def strip(images, axis):
        gap_shape = list(images[0].shape)
        gap_shape[axis] = pad
        gap = np.full(gap_shape, 255, dtype=np.uint8)
        parts = []
        for img in images:
            parts += [img, gap]
        return np.concatenate(parts[:-1], axis=axis)

    rows = []
    for png in panels:
        with Image.open(png) as img:
            grid = np.asarray(img.convert("RGB"))
        pairs = (grid.shape[0] - pad) // ((grid.shape[1] - pad) // steps)
        cells = tiles(grid, steps, pairs * steps)
        rows.append([cells[p * steps : (p + 1) * steps] for p in range(len(cells) // steps)])
    frames = []
    for j in list(range(steps)) + list(range(steps - 2, 0, -1)):
        picture = strip([strip([pair[j] for pair in row], axis=1) for row in rows], axis=0)
        frames.append(
            Image.fromarray(picture).resize((picture.shape[1] * scale, picture.shape[0] * scale), Image.NEAREST)
        )
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=ms, loop=0, optimize=False)
    return path


@pytest.fixture
def panels(tmp_path):
    """Two interpolation panels as genlat draws them (genlat.images.panel_array), one gray, one colour."""
    g = torch.Generator().manual_seed(0)
    out = []
    for name, channels in (("slerp", 1), ("lerp", 3)):
        path = tmp_path / f"epoch_002_{name}.png"
        save_png(panel_array(torch.rand(PAIRS, STEPS, channels, SIZE, SIZE, generator=g) * 2 - 1), path)
        out.append(path)
    return out


def test_the_reports_morph_gif_is_the_same_bytes_as_before_it_moved_into_genlat(tmp_path, panels):
    for chosen in (panels, panels[:1]):  # the report's (slerp above lerp) and a run's (one method)
        before = _before(chosen, STEPS, tmp_path / "before.gif").read_bytes()
        assert figures.morph_gif(chosen, STEPS, tmp_path / "figures" / "after.gif").read_bytes() == before
        assert morph.gif_bytes(chosen, STEPS) == before
    assert not list((tmp_path / "figures").glob(".*.tmp"))  # written atomically: no temp file left


def test_each_frame_shows_one_step_of_every_pair_forward_and_back(tmp_path, panels):
    order = [0, 1, 2, 3, 4, 3, 2, 1]  # 2 × steps − 2 frames: a loop that does not stall at the ends
    gray, colour = ([morph.tiles(morph.load_rgb(p), STEPS, PAIRS * STEPS)] for p in panels)
    with Image.open(morph.write_gif(panels[:1], STEPS, tmp_path / "m.gif", scale=1)) as img:
        played = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(img)]  # gray: exact in a GIF's palette
    for shown, cells in (
        (played, gray[0]),
        ([np.asarray(f) for f in morph.frames(panels[1:], STEPS, scale=1)], colour[0]),
    ):
        assert len(shown) == len(order)
        for frame, j in zip(shown, order):
            assert frame.shape == (SIZE, PAIRS * SIZE + (PAIRS - 1) * morph.PAD, 3)
            for pair in range(PAIRS):
                x = pair * (SIZE + morph.PAD)
                assert np.array_equal(frame[:, x : x + SIZE], cells[pair * STEPS + j]), (j, pair)


@pytest.mark.parametrize("steps", [40, 500])
def test_a_panel_too_small_for_a_row_of_the_steps_is_refused(panels, steps):
    """interp_steps larger than the panel was drawn with: images of no pixel (40), or none at all (500)."""
    with pytest.raises(ValueError, match=f"hold no row of {steps} images"):
        morph.gif_bytes(panels, steps)
