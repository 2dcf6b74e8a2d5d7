"""eval_batches: what sampling, encoding and feature extraction share."""

import torch
from torch import nn

from genlat.inference import eval_batches


def test_eval_batches_equals_one_eval_pass_and_restores_training():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 3)).train()
    x = torch.randn(37, 4)
    out = eval_batches(net, x, batch=10, device="cpu")  # 4 batches, the last one short
    assert net.training  # the flag is put back: training continues as it was
    with torch.no_grad():
        expected = net.eval()(x)
    assert out.dtype == torch.float32 and not out.requires_grad
    assert torch.allclose(out, expected, atol=1e-6)  # eval mode: no dropout, BatchNorm's running stats


def test_eval_batches_concatenates_tuples_and_applies_fn():
    net = nn.Linear(2, 2)
    x = torch.arange(10.0).reshape(5, 2)
    mu, twice = eval_batches(net, x, batch=2, device="cpu", fn=lambda b: (b, 2 * b))
    assert torch.equal(mu, x) and torch.equal(twice, 2 * x)
