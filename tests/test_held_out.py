"""`ImageSource.held_out(n)`: the real images of the evaluation and the VAE's fixed images, never in a
training batch where the data allows, and the same images as before they moved into genlat.data
(values pinned from `genlat.metrics.evaluate.real_images`, which they replace)."""

import pytest
import torch
from PIL import Image

from genlat.config import TrainConfig
from genlat.data import OFFLINE_ENV, ShapesSource, build_source

LEVEL_STEP = 20  # folder image i is one gray level, 20 * i: the level names the image
PINNED_SHAPES_SUM = -7262.875  # real_images(ShapesSource(100, 32, seed=7), 8).double().sum() before the move


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(OFFLINE_ENV, "1")
    for i in range(12):
        Image.new("L", (8, 8), LEVEL_STEP * i).save(tmp_path / f"img_{i:02d}.png")
    return build_source(
        TrainConfig(dataset=f"folder:{tmp_path}", image_size=32, channels=1, epoch_size=8, batch_size=2)
    )


def which(images: torch.Tensor) -> list[int]:
    """The folder images' numbers, read back from their gray levels."""
    return [round(float((x.mean() + 1) / 2 * 255) / LEVEL_STEP) for x in images]


def test_folder_held_out_are_the_images_outside_the_epoch_while_there_are_enough(folder):
    assert folder.subset.tolist() == [0, 1, 3, 4, 6, 7, 9, 10]  # every 12/8-th image trains
    assert which(folder.held_out(3)) == [2, 5, 8]  # 3 of the 4 left out, evenly spaced
    assert which(folder.held_out(6)) == [0, 2, 4, 6, 8, 10]  # only 4 left out: spread over all 12
    for n, idx in ((3, [2, 5, 8]), (6, [0, 2, 4, 6, 8, 10])):  # bit for bit the dataset's own items
        assert torch.equal(folder.held_out(n), torch.stack([folder.dataset[i] for i in idx]))


def test_shapes_held_out_follow_the_training_indices_and_are_pinned():
    src = ShapesSource(size=100, image_size=32, seed=7)
    held = src.held_out(8)
    assert held.shape == (8, 1, 32, 32) and held.dtype == torch.float32
    assert torch.equal(held, src.render_indices(torch.arange(100, 108)))  # past every epoch's 0..99
    assert float(held.double().sum()) == pytest.approx(PINNED_SHAPES_SUM, rel=1e-12)
    assert torch.equal(ShapesSource(size=100, image_size=32, seed=8).held_out(8), held)  # the run's seed only shuffles
