"""The procedural shapes dataset and the epoch sampler."""

import math

import pytest
import torch

from genlat.config import TrainConfig
from genlat.data import (
    FACTOR_SIZES,
    Factors,
    ShapesSource,
    build_source,
    epoch_batches,
    render,
    sample_factors,
)
from genlat.errors import DataError


def centred(shape: int, size: int, scale: float = 1.0, theta: float = 0.0) -> torch.Tensor:
    """One shape at the image centre, as a binary mask (size, size)."""
    values = torch.tensor([[float(shape), scale, theta, 0.5, 0.5]], dtype=torch.float64)
    classes = torch.tensor([[shape, 0, 0, 0, 0]])
    return render(Factors(classes, values), size)[0, 0] > 0.5


def iou(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a & b).sum() / (a | b).sum()).item()


def test_factors_and_images_depend_only_on_seed_and_index():
    idx = torch.arange(64)
    a, b = sample_factors(idx, seed=3), sample_factors(idx, seed=3)
    assert torch.equal(a.classes, b.classes) and torch.equal(a.values, b.values)
    for size in (32, 64):
        batch = render(a, size)
        alone = render(sample_factors(torch.tensor([5]), seed=3), size)
        assert torch.equal(batch[5:6], alone)  # the same image whatever batch it is in
        reordered = render(sample_factors(idx.flip(0), seed=3), size)
        assert torch.equal(reordered.flip(0), batch)


def test_different_seeds_give_different_datasets():
    idx = torch.arange(256)
    a, b = sample_factors(idx, seed=0), sample_factors(idx, seed=1)
    assert (a.classes != b.classes).any(dim=1).float().mean() > 0.9
    assert not torch.equal(render(a, 32), render(b, 32))


def test_factor_classes_cover_their_ranges_uniformly():
    f = sample_factors(torch.arange(40_000), seed=0)
    assert f.classes.dtype == torch.int64 and f.classes.shape == (40_000, 5)
    for k, n in enumerate(FACTOR_SIZES):
        counts = torch.bincount(f.classes[:, k], minlength=n)
        assert len(counts) == n  # nothing out of range
        expected = 40_000 / n
        assert counts.min() > 0.85 * expected and counts.max() < 1.15 * expected, (k, counts)
    v = f.values
    assert torch.equal(v[:, 0].long(), f["shape"])
    assert v[:, 1].min() == 0.5 and v[:, 1].max() == 1.0
    assert v[:, 2].min() == 0 and v[:, 2].max() < 2 * math.pi
    assert v[:, 3:].min() == 0 and v[:, 3:].max() == 1


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [0, 1, 3])
def test_batches_shape_range_and_count(size, channels):
    cfg = TrainConfig(image_size=size, channels=channels, epoch_size=200, seed=1)
    src = build_source(cfg)
    assert src.name == "shapes" and len(src) == 200
    assert src.channels == (3 if channels == 3 else 1)
    batches = list(src.batches(epoch=0, batch_size=32, rank=0, world_size=1, device="cpu"))
    assert len(batches) == src.steps_per_epoch(32, 1) == 6
    for x in batches:
        assert x.shape == (32, src.channels, size, size) and x.dtype == torch.float32
        assert x.min() == -1 and x.max() == 1  # background -1, solid inside +1, edges in between
    if src.channels == 3:
        assert torch.equal(x[:, 0], x[:, 2])  # gray repeated


def test_batches_are_the_rendered_indices_and_held_out_indices_render():
    src = ShapesSource(size=100, image_size=32, seed=7)
    idx = src.epoch_indices(epoch=2, batch_size=10)
    batches = list(src.batches(epoch=2, batch_size=10))
    assert len(batches) == 10 and all(torch.equal(b, src.render_indices(i)) for b, i in zip(batches, idx))
    held_out = torch.arange(100, 110)
    assert src.render_indices(held_out).shape == (10, 1, 32, 32)
    assert src.factors_for(held_out).classes.shape == (10, 5)


@pytest.mark.parametrize("size,scale", [(32, 1.0), (32, 0.5), (64, 1.0)])
def test_the_three_shapes_are_distinguishable(size, scale):
    square, ellipse, heart = (centred(k, size, scale) for k in range(3))
    # Different silhouettes (they have about the same area, so compare overlaps).
    assert max(iou(square, ellipse), iou(square, heart), iou(ellipse, heart)) < 0.9
    # Symmetries: a square survives a quarter turn, an ellipse does not but survives an upside-down
    # flip, a heart survives neither but is left-right symmetric.
    assert iou(square, square.rot90(1, (0, 1))) > 0.95
    assert iou(ellipse, ellipse.rot90(1, (0, 1))) < 0.6 and iou(ellipse, ellipse.flip(0)) > 0.95
    assert iou(heart, heart.rot90(1, (0, 1))) < 0.85 and iou(heart, heart.flip(0)) < 0.8
    assert iou(heart, heart.flip(1)) > 0.95


def test_orientation_and_scale_change_the_image():
    ellipse = centred(1, 64)
    assert iou(ellipse, centred(1, 64, theta=math.pi / 4)) < 0.7
    assert iou(ellipse, centred(1, 64, theta=math.pi)) > 0.95  # half a turn: the same ellipse
    small = centred(1, 64, scale=0.5)
    assert 0.2 < small.sum() / ellipse.sum() < 0.3  # area goes with scale squared


@pytest.mark.parametrize("size", [32, 64])
def test_shapes_stay_inside_the_frame(size):
    # Every shape, at the largest scale, every orientation, at the extreme positions.
    ends = torch.tensor([0, 31])
    grid = torch.cartesian_prod(torch.arange(3), torch.tensor([5]), torch.arange(40), ends, ends)  # (480, 5)
    images = render(Factors.from_classes(grid), size)[:, 0]  # (480, size, size)
    border = torch.cat([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], dim=1)
    assert border.max() == 0
    # ... and the smallest ones are still drawn.
    f = sample_factors(torch.arange(2000), seed=0)
    small = render(f, size)[f["scale"] == 0]
    assert small.sum(dim=(1, 2, 3)).min() > 4


def test_sampler_shards_are_disjoint_equal_and_deterministic():
    n, bs, world = 103, 8, 3
    shards = [epoch_batches(n, bs, epoch=4, seed=1, rank=r, world_size=world) for r in range(world)]
    assert [len(s) for s in shards] == [n // (bs * world)] * world
    flat = torch.cat([torch.cat(s) for s in shards])
    assert len(flat) == len(flat.unique()) == 4 * bs * world and flat.max() < n
    again = epoch_batches(n, bs, epoch=4, seed=1, rank=1, world_size=world)
    assert all(torch.equal(a, b) for a, b in zip(again, shards[1]))
    assert not torch.equal(torch.cat(epoch_batches(n, bs, 5, 1)), torch.cat(epoch_batches(n, bs, 4, 1)))
    assert not torch.equal(torch.cat(epoch_batches(n, bs, 4, 2)), torch.cat(epoch_batches(n, bs, 4, 1)))
    # All ranks together take what one process with batch bs * world would, in the same order.
    single = torch.cat(epoch_batches(n, bs * world, epoch=4, seed=1))
    together = torch.stack([torch.stack(s) for s in shards], dim=1).flatten()
    assert torch.equal(together, single)


def test_too_few_images_for_one_step_is_a_data_error():
    src = ShapesSource(size=10, image_size=32)
    with pytest.raises(DataError, match="lower --batch_size or use fewer processes or raise --epoch_size"):
        src.steps_per_epoch(batch_size=8, world_size=2)


def test_masked_rendering_is_pixel_identical():
    """The GPU path (every shape's test on every image, no host sync) draws the same pixels as the
    per-shape selection the CPU uses; here both run on the CPU."""
    from genlat.data.shapes import render

    factors = sample_factors(torch.arange(600), seed=3)
    for size in (32, 64):
        assert torch.equal(render(factors, size, masked=True), render(factors, size, masked=False))
