"""The latent bank, slerp/lerp, and the DCGAN networks' shapes and parameter counts."""

import pytest
import torch

from genlat.config import TrainConfig
from genlat.latent import interpolation_paths, latent_bank, lerp, slerp
from genlat.models import count_parameters
from genlat.trainers import build_models


def test_bank_is_a_function_of_seed_and_zn():
    assert torch.equal(latent_bank(50, 16, 0), latent_bank(50, 16, 0))
    assert torch.equal(latent_bank(50, 64, 0)[:16], latent_bank(50, 16, 0))  # a prefix
    assert not torch.equal(latent_bank(50, 16, 0), latent_bank(50, 16, 1))


def test_slerp_keeps_the_norm_lerp_does_not():
    bank = latent_bank(500, 2, 0)
    t = torch.linspace(0, 1, 11)
    s, lin = slerp(bank[0], bank[1], t), lerp(bank[0], bank[1], t)
    assert torch.allclose(s[0], bank[0], atol=1e-5) and torch.allclose(s[-1], bank[1], atol=1e-5)
    assert torch.allclose(lin[0], bank[0]) and torch.allclose(lin[-1], bank[1])
    mid_s, mid_l, typical = s[5].norm(), lin[5].norm(), bank.norm(dim=1).mean()
    assert abs(mid_s / typical - 1) < 0.05  # stays on the prior's shell
    assert 0.6 < mid_l / typical < 0.8  # two independent N(0, I) draws: the midpoint's norm is ~sqrt(1/2) = 0.71x


def test_slerp_of_parallel_vectors_is_finite():
    a = torch.ones(8)
    out = slerp(a, 2 * a, torch.linspace(0, 1, 5))
    assert torch.isfinite(out).all() and torch.allclose(out[-1], 2 * a, atol=1e-4)


def test_interpolation_paths_use_bank_pairs():
    bank = latent_bank(16, 8, 0)
    paths = interpolation_paths(bank, pairs=3, steps=5, method="slerp")
    assert paths.shape == (3, 5, 16)
    assert torch.allclose(paths[1, 0], bank[2], atol=1e-5) and torch.allclose(paths[1, -1], bank[3], atol=1e-5)


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes(size, channels):
    cfg = TrainConfig(zn=20, image_size=size, ngf=8, ndf=8)
    g, d = build_models(cfg, channels).values()
    x = g(torch.randn(5, 20))
    assert x.shape == (5, channels, size, size) and x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (5,)


def test_generator_grows_with_zn_discriminator_does_not():
    counts = {}
    for zn in (50, 500):
        g, d = build_models(TrainConfig(zn=zn, image_size=64), 3).values()
        counts[zn] = (count_parameters(g), count_parameters(d))
    # the README's zn confound: G 3.2M vs 6.9M at 64x64, D 2.8M either way
    assert round(counts[50][0] / 1e6, 1) == 3.2 and round(counts[500][0] / 1e6, 1) == 6.9
    assert counts[50][1] == counts[500][1] and round(counts[50][1] / 1e6, 1) == 2.8


def test_init_is_seeded_and_dcgan_like():
    """The weights come from cfg.seed alone (not from torch's global state), drawn as N(0, 0.02)."""
    cfg = TrainConfig(zn=100, ngf=64, ndf=8)
    torch.manual_seed(1)
    w1 = build_models(cfg, 1)["g"].net[0].weight
    torch.manual_seed(2)
    w2 = build_models(cfg, 1)["g"].net[0].weight
    w3 = build_models(TrainConfig(zn=100, ngf=64, ndf=8, seed=1), 1)["g"].net[0].weight
    assert torch.equal(w1, w2) and not torch.equal(w1, w3)
    # 819,200 weights: their std is 0.02 to within 1e-4; PyTorch's own init would give about 0.0064
    assert abs(w1.std().item() - 0.02) < 0.001 and abs(w1.mean().item()) < 0.001
