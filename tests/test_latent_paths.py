"""Pairing of bank vectors and slerp with one t per row (PPL's form) against the panels' form."""

import torch

from genlat.latent import bank_pairs, interpolation_paths, latent_bank
from genlat.metrics.smoothness import slerp_rows


def test_bank_pairs_are_neighbours_and_whole():
    bank = torch.arange(7.0).unsqueeze(1)  # an odd count: the last vector has no partner
    a, b = bank_pairs(bank)
    assert a.squeeze(1).tolist() == [0, 2, 4] and b.squeeze(1).tolist() == [1, 3, 5]
    a, b = bank_pairs(bank, 2)
    assert a.squeeze(1).tolist() == [0, 2] and b.squeeze(1).tolist() == [1, 3]


def test_slerp_rows_is_each_rows_own_point_on_the_shared_path():
    bank = latent_bank(50, 8, seed=3)
    t = torch.tensor([0.0, 0.25, 0.5, 1.0])
    rows = slerp_rows(*bank_pairs(bank), t)  # (4, zn): row i at t[i]
    paths = interpolation_paths(bank, 4, 5, "slerp")  # t = 0, .25, .5, .75, 1
    for i, step in enumerate([0, 1, 2, 4]):
        assert torch.allclose(rows[i], paths[i, step], atol=1e-5)
