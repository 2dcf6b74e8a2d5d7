"""The measures behind the study's claims (issue 14): latent usage, fragmentation, detail, class flips."""

import pytest
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from genlat.data import ShapesSource
from genlat.metrics.detail import detail_ratio, high_frequency_share
from genlat.metrics.fragments import count_pieces, fragmentation, label_components, min_piece_pixels
from genlat.metrics.jacobian import jacobian_points, latent_usage, participation_ratio, used_dims
from genlat.metrics.smoothness import class_flips, interpolation_smoothness
from genlat.models.dcgan import Generator


class FirstK(nn.Module):
    """A generator that reads only the first k of its zn inputs: its Jacobian has rank <= k."""

    def __init__(self, zn: int, k: int, side: int = 8):
        super().__init__()
        self.k, self.side = k, side
        self.net = nn.Sequential(nn.Linear(k, 64), nn.Tanh(), nn.Linear(64, side * side), nn.Tanh())

    def forward(self, z):
        return rearrange(self.net(z[:, : self.k]), "b (h w) -> b 1 h w", h=self.side)


class Linear(nn.Module):
    def __init__(self, matrix: torch.Tensor, side: int):
        super().__init__()
        self.matrix, self.side = nn.Parameter(matrix), side

    def forward(self, z):
        return rearrange(z @ self.matrix.T, "b (h w) -> b 1 h w", h=self.side)


def test_a_generator_using_k_inputs_uses_at_most_k_dims():
    torch.manual_seed(0)
    z = torch.randn(6, 20)
    used = latent_usage(FirstK(20, 3), z)
    assert used["jacobian_dims90"] <= 3 and 1 <= used["jacobian_pr"] <= 3
    everything = latent_usage(FirstK(20, 20), z)  # the same kind of net reading all 20: more than 3
    assert everything["jacobian_dims90"] > 3 and everything["jacobian_pr"] > 3


def test_a_linear_generator_gives_its_singular_values_exactly():
    torch.manual_seed(0)
    s = torch.tensor([5.0, 4.0, 2.0, 1.0, 0.5, 0.25])
    u, _ = torch.linalg.qr(torch.randn(64, 6))
    v, _ = torch.linalg.qr(torch.randn(6, 6))
    g = Linear(u @ torch.diag(s) @ v.T, side=8)
    s2 = s.double().square()
    # by hand: 25 + 16 = 41 < 0.9 * 46.3125 = 41.68 <= 41 + 4: three directions hold 90 %
    assert used_dims(s2.view(1, -1)).item() == 3
    used = latent_usage(g, torch.randn(3, 6))
    assert used["jacobian_dims90"] == 3
    assert used["jacobian_pr"] == pytest.approx(float(s2.sum() ** 2 / s2.square().sum()), rel=1e-5)
    from genlat.metrics.jacobian import jacobians, squared_singular_values

    got = squared_singular_values(jacobians(g, torch.randn(2, 6))).sqrt()
    assert torch.allclose(got, s.double().expand(2, -1), rtol=1e-5)


def test_latent_usage_of_a_dcgan_generator_keeps_its_mode_and_ignores_autocast_patches():
    torch.manual_seed(0)
    g = Generator(10, 1, 32, 8).train()
    z = torch.randn(4, 10)
    plain = latent_usage(g, z)
    assert g.training  # restored after the measurement in eval mode
    g.forward = lambda z: torch.zeros(len(z), 1, 32, 32)  # what Accelerate's instance patch stands in for
    assert latent_usage(g, z) == plain
    assert 1 <= plain["jacobian_dims90"] <= 10 and 1 <= plain["jacobian_pr"] <= 10


def test_jacobian_points_fit_the_budget():
    assert jacobian_points(50, 32) == 20 and jacobian_points(500, 32) == 2 and jacobian_points(20, 32) == 32
    assert participation_ratio(torch.ones(1, 7, dtype=torch.float64)).item() == pytest.approx(7)


def shapes(n: int, size: int = 32) -> torch.Tensor:
    return ShapesSource(2, size).render_indices(torch.arange(n) + 10**6)


@pytest.mark.parametrize("size", [32, 64])
def test_every_rendered_shape_is_one_piece(size):
    assert fragmentation(shapes(300, size)) == {"fragments_mean": 1.0, "fragmented_share": 0.0}


def test_shapes_cut_in_two_are_fragmented():
    x = shapes(200)
    mask = x[:, 0] > 0
    cols = torch.arange(32)
    centre = ((mask.sum(1) * cols).sum(1) / mask.sum((1, 2))).round().long()  # (N,) column of the centroid
    apart = torch.full((200, 1, 32, 36), -1.0)  # each image's right half moved 4 columns right
    for i, c in enumerate(centre.tolist()):
        apart[i, :, :, :c], apart[i, :, :, c + 4 :] = x[i, :, :, :c], x[i, :, :, c:]
    pieces = count_pieces(apart, min_piece_pixels(32))
    assert (pieces == 2).all()
    assert count_pieces(x, min_piece_pixels(32)).eq(1).all()  # the same shapes whole


def test_pieces_are_8_connected_and_specks_do_not_count():
    mask = torch.zeros(1, 6, 6, dtype=torch.bool)
    mask[0, 0, 0] = mask[0, 1, 1] = mask[0, 2, 2] = True  # a diagonal line: one piece
    mask[0, 5, 5] = True  # a single pixel, apart
    labels = label_components(mask)
    assert labels[0, 0, 0] == labels[0, 2, 2] != labels[0, 5, 5] and labels[0, 3, 3] == 0
    images = mask.float().unsqueeze(1) * 2 - 1
    assert count_pieces(images, 1).tolist() == [2] and count_pieces(images, 2).tolist() == [1]


def test_detail_orders_blurred_below_sharp_below_noisy():
    sharp = shapes(200)
    blurred = F.avg_pool2d(sharp, 3, stride=1, padding=1, count_include_pad=False)
    noisy = (sharp + 0.3 * torch.randn(sharp.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    real = high_frequency_share(ShapesSource(2, 32).render_indices(torch.arange(200) + 10**7))
    assert detail_ratio(blurred, real) < detail_ratio(sharp, real) < detail_ratio(noisy, real)
    assert detail_ratio(sharp, real) == pytest.approx(1.0, abs=0.1)  # other renders of the same data


def test_class_flips_count_changes_along_a_path():
    assert class_flips(torch.zeros(3, 10, dtype=torch.long)) == 0
    rows = torch.tensor([[0, 0, 0, 1, 1, 1], [0, 1, 0, 1, 0, 1], [2, 2, 1, 1, 0, 0]])
    assert class_flips(rows) == pytest.approx((1 + 5 + 2) / 3)


def test_interpolation_rows_report_class_flips_per_method():
    bank = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    generate = lambda z: rearrange(z, "n z -> n 1 1 z")  # noqa: E731 images that are z
    features = lambda x: x.flatten(1)  # noqa: E731
    sign = lambda x: (x[:, 0, 0, 0] > 0).long()  # noqa: E731 the "class": the sign of z's first entry
    out = interpolation_smoothness(generate, features, bank, 9, ["slerp", "lerp"], classify=sign)
    a, b = bank[0::2, 0], bank[1::2, 0]
    expected = float(((a > 0) != (b > 0)).double().mean())  # lerp's first entry is monotone: one flip if signs differ
    assert out["class_flips_lerp"] == pytest.approx(expected)
    assert "class_flips_slerp" in out
    assert "class_flips_lerp" not in interpolation_smoothness(generate, features, bank, 9, ["lerp"])


@pytest.mark.parametrize("size,channels_last", [(32, True), (32, False), (64, True)])
def test_the_generators_jacobian_by_its_tangents_equals_jacfwd(size, channels_last):
    """genlat's DCGAN generator's Jacobian pushed through its layers by hand equals torch.func's
    jacfwd to float32 rounding (batch norm with running statistics that are not 0 and 1)."""
    from genlat.metrics.jacobian import _plain, generator_jacobians, jacobians, squared_singular_values

    torch.manual_seed(0)
    g = Generator(12, 1, size, 8).eval()
    if channels_last:
        g = g.to(memory_format=torch.channels_last)
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2)
                m.bias.normal_(0, 0.1)
        z = torch.randn(5, 12)
        by_hand, reference = generator_jacobians(g, z), jacobians(_plain(g), z)
    assert by_hand.shape == reference.shape == (5, size * size, 12)
    assert torch.allclose(by_hand, reference, rtol=1e-4, atol=1e-6 * float(reference.abs().max()))
    assert torch.allclose(squared_singular_values(by_hand), squared_singular_values(reference), rtol=1e-5)


def test_generator_stem_is_the_first_layer():
    """Generator.forward computes its first layer (a transposed convolution of a 1x1 input) as a
    matrix product: the same images as the layer itself, to the bit in channels-last."""
    torch.manual_seed(0)
    z = torch.randn(16, 20)
    for layout in (torch.channels_last, torch.contiguous_format):
        g = Generator(20, 1, 32, 8).to(memory_format=layout)
        by_layer = g.net(rearrange(z, "b z -> b z 1 1"))
        if layout == torch.channels_last:
            assert torch.equal(g(z), by_layer)
        assert torch.allclose(g(z), by_layer, atol=1e-5)


def test_pieces_counted_by_scipy_equal_the_torch_labelling():
    """An evaluation's images (on the CPU) are labelled by scipy, a GPU's by label_components: the
    same counts on blobs of every kind (one, several, touching only at a corner, specks, none)."""
    from genlat.metrics.fragments import _count_pieces_cpu, _count_pieces_torch

    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(120, 1, 32, 32, generator=gen)
    blobs = F.avg_pool2d(noise, 5, stride=1, padding=2) * 4 + torch.linspace(-1.5, 0.5, 120).view(-1, 1, 1, 1)
    masks = torch.cat(
        [blobs[:, 0] > 0, torch.zeros(2, 32, 32, dtype=torch.bool), torch.ones(1, 32, 32, dtype=torch.bool)]
    )
    for min_pixels in (1, 12):
        by_scipy, by_torch = _count_pieces_cpu(masks, min_pixels), _count_pieces_torch(masks, min_pixels)
        assert torch.equal(by_scipy, by_torch), min_pixels
    assert by_torch.max() >= 3 and (by_torch == 0).any()  # the cases above occur


@pytest.mark.parametrize("size", [32, 64])
def test_the_shipped_feature_nets_give_the_same_bits_at_any_batch(size):
    """Features are computed 64 images at a time (cheaper in cache); they equal the 500-image batches
    of metric version 2 to the bit, so the numbers did not change."""
    from genlat.metrics.reference_nets import shapes_feature_space

    space = shapes_feature_space(size)
    images = ShapesSource(2, size).render_indices(torch.arange(150) + 10**6)  # 64 + 64 + 22
    images = images + 0.3 * torch.randn(images.shape, generator=torch.Generator().manual_seed(0))  # not only renders
    assert torch.equal(space.features(images), space.features(images, batch=500))
    f64, c64 = space.features_and_factors(images)
    f500, c500 = space.features_and_factors(images, batch=500)
    assert torch.equal(f64, f500) and torch.equal(c64, c500)
