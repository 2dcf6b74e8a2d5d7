"""The VAE family: the model's likelihood and latent statistics, a run end to end, and exact resume."""

import json

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from genlat.cli import main, train_main
from genlat.config import TrainConfig
from genlat.errors import ConfigError
from genlat.models.vae import VAE, active_units, bernoulli_nll, kl_per_dim
from genlat.sweep.spec import load_spec
from genlat.trainers import build_models, decoder_of
from tests.helpers import load_png


@pytest.mark.parametrize("k", [0, 3, 7])
def test_active_units_counts_the_dimensions_whose_mean_varies(k):
    """Posterior means that vary across data (variance ~1) in exactly k of 10 dims, ~0.0025 elsewhere."""
    g = torch.Generator().manual_seed(k)
    mu = 0.05 * torch.randn(2000, 10, generator=g) + 3.0  # a constant offset is not activity
    mu[:, :k] = torch.randn(2000, k, generator=g)
    assert active_units(mu) == k


def test_active_units_threshold_is_burdas_001():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(5000, 2, generator=g)
    base = (base - base.mean(0)) / base.std(0)  # unit variance exactly
    mu = base * torch.tensor([0.0125**0.5, 0.008**0.5])  # variances 0.0125 and 0.008 around 0.01
    assert active_units(mu) == 1
    assert active_units(mu, threshold=0.005) == 2


def test_kl_per_dim_is_the_gaussian_kl_and_sums_to_the_kl_term():
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    reference = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0))
    assert torch.allclose(kl_per_dim(mu, logvar), reference, atol=1e-6)
    assert torch.allclose(kl_per_dim(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2, 3))


def test_bernoulli_mean_is_what_the_generator_draws():
    """The decoder's logits are 2 * (G's pre-Tanh activation): sigmoid(logits) mapped to [-1, 1] is
    exactly G(z), so samples and reconstructions use the GAN's own output path."""
    vae = VAE(zn=6, channels=1, image_size=32, ngf=8, ndf=8).eval()
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    eps = torch.zeros(3, 6)
    mu, logvar, logits = vae(x, eps)
    assert mu.shape == logvar.shape == (3, 6) and logits.shape == (3, 1, 32, 32)
    assert torch.allclose(2 * torch.sigmoid(logits) - 1, vae.decoder(mu), atol=1e-5)
    # the NLL is the summed per-pixel BCE against (x + 1) / 2
    p = torch.sigmoid(logits)
    t = (x + 1) / 2
    manual = -(t * p.log() + (1 - t) * (1 - p).log()).flatten(1).sum(1)
    assert torch.allclose(bernoulli_nll(logits, x), manual, rtol=1e-4)


def test_vae_decoder_is_the_dcgan_generator():
    """The family table's VAE decoder takes a DCGAN G's weights, key for key, and then draws the same images."""
    gan_cfg, vae_cfg = TrainConfig(zn=50, image_size=64, ngf=16), TrainConfig(zn=50, image_size=64, ngf=16, model="vae")
    g = decoder_of(gan_cfg, build_models(gan_cfg, 3)).eval()
    decoder = decoder_of(vae_cfg, build_models(vae_cfg, 3)).eval()
    z = torch.randn(4, 50)
    assert not torch.allclose(decoder(z), g(z))  # different weights (the VAE's init drew the encoder first)
    decoder.load_state_dict(g.state_dict(), strict=True)  # the same parameters and buffers, by name and shape
    assert torch.equal(decoder(z), g(z))


def test_beta_is_checked_and_named():
    with pytest.raises(ConfigError, match=r"--beta=0\.0: must be a positive finite number"):
        TrainConfig(model="vae", beta=0.0)
    assert TrainConfig(model="vae", beta=4.0).run_name == "shapes32-vae-beta4-zn100-lr0.0002-s0"
    assert TrainConfig(model="vae").run_name == "shapes32-vae-zn100-lr0.0002-s0"


def test_vae_run_writes_the_epoch_series_panels_and_latent_statistics(tmp_path, tiny_args, capsys):
    assert train_main([*tiny_args, "--model", "vae", "--beta", "2", "--epochs", "2"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name == "shapes32-vae-beta2-zn8-lr0.0002-s0"
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "vae" and config["beta"] == 2.0
    assert config["g_params"] > 0 and config["e_params"] > 0 and "d_params" not in config
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    for r in rows:
        # loss is the negative beta-ELBO: a per-step identity, so it holds for the epoch means too
        assert r["epoch/loss"] == pytest.approx(r["epoch/recon"] + 2 * r["epoch/kl"], rel=1e-5)
        assert r["epoch/recon"] > 0 and r["epoch/kl"] >= 0
        assert len(r["eval/kl_per_dim"]) == 8 and min(r["eval/kl_per_dim"]) >= 0
        assert sum(r["eval/kl_per_dim"]) == pytest.approx(r["eval/kl"], abs=1e-4)
        assert isinstance(r["eval/active_units"], int) and 0 <= r["eval/active_units"] <= 8
        assert r["eval/active_units"] == sum(v > 0.01 for v in r["eval/mu_var_per_dim"])  # the same set, per dim
        assert "eval/fd" in r  # the decoder's samples go through the GAN's evaluation unchanged
        assert 1 <= r["eval/jacobian_dims90"] <= 8  # the decoder's latent usage, on the GAN's axis
        assert (run / r["reconstruction_grid"]).exists() and (run / r["sample_grid"]).exists()
    # 16 bank samples -> 8 real images in 2 rows of 4, each row followed by its reconstructions
    recon = load_png(run / "reconstructions" / "epoch_002.png")
    assert recon.shape[:2] == (4 * 34 + 2, 4 * 34 + 2)
    for method in ("slerp", "lerp", "slerp-real", "lerp-real"):
        panel = load_png(run / "interpolation" / f"epoch_002_{method}.png")
        assert panel.shape[:2] == (2 * 34 + 2, 4 * 34 + 2)  # 2 pairs x 4 steps
        assert (run / "interpolation" / f"epoch_002_{method}_pair1.png").exists()
    # a real-image row starts at the encoding of real image 0: its reconstruction (grid row 2, column 1)
    for method in ("slerp-real", "lerp-real"):
        start = load_png(run / "interpolation" / f"epoch_002_{method}_pair0.png")[2:34, 2:34].astype(int)
        assert np.abs(start - recon[36:68, 2:34].astype(int)).max() <= 1, method
    bank_start = load_png(run / "interpolation" / "epoch_002_slerp_pair0.png")[2:34, 2:34].astype(int)
    assert np.abs(bank_start - load_png(run / "samples" / "epoch_002.png")[2:34, 2:34].astype(int)).max() <= 1
    assert len(list((run / "wandb").glob("offline-run-*"))) == 1

    # genlat eval loads the VAE's decoder from the checkpoint: the same FD the run logged
    capsys.readouterr()
    assert main(["eval", str(run), "--samples", "32"]) == 0
    fd = next(line for line in capsys.readouterr().out.splitlines() if "eval/fd " in line)
    assert float(fd.split()[-2]) == pytest.approx(rows[-1]["eval/fd"], rel=1e-3)


def test_vae_stop_after_epoch_2_then_resume_equals_uninterrupted(tmp_path, tiny_args, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")  # the W&B side of resume is the GAN test's; this one is the model's
    args = [*tiny_args, "--model", "vae", "--eval_every", "0", "--epoch_size", "32"]
    assert train_main([*args, "--out", str(tmp_path / "a"), "--epochs", "4"]) == 0
    assert train_main([*args, "--out", str(tmp_path / "b"), "--epochs", "2"]) == 0
    assert train_main([*args, "--out", str(tmp_path / "b"), "--epochs", "4", "--resume"]) == 0
    (run_a,) = (tmp_path / "a").iterdir()
    (run_b,) = (tmp_path / "b").iterdir()
    state_a = torch.load(run_a / "checkpoints" / "epoch_004.pt", weights_only=True)
    state_b = torch.load(run_b / "checkpoints" / "epoch_004.pt", weights_only=True)
    for key in state_a["vae"]:
        assert torch.equal(state_a["vae"][key], state_b["vae"][key]), key
    for folder in ("samples", "reconstructions"):
        assert (run_a / folder / "epoch_004.png").read_bytes() == (run_b / folder / "epoch_004.png").read_bytes()
    rows_a = [json.loads(line) for line in (run_a / "metrics.jsonl").read_text().splitlines()]
    rows_b = [json.loads(line) for line in (run_b / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows_b] == [1, 2, 3, 4]
    for a, b in zip(rows_a, rows_b):
        assert (a["epoch/loss"], a["eval/kl_per_dim"]) == (b["epoch/loss"], b["eval/kl_per_dim"])


@pytest.mark.parametrize("path", ["sweeps/vae.yaml", "sweeps/vae-quick.yaml"])
def test_vae_sweep_files_are_valid_and_every_trial_is_a_vae_config(path):
    spec = load_spec(path)
    params = spec.config["parameters"]
    assert spec.method == "grid" and params["zn"]["values"] == [50, 100, 150, 500]
    fixed = {k: v["value"] for k, v in params.items() if "value" in v}
    for zn in params["zn"]["values"]:
        cfg = TrainConfig.from_dict({**fixed, "zn": zn})
        assert cfg.model == "vae" and cfg.beta == 1.0
    assert spec.config["metric"]["name"] == "epoch/loss"


def test_epoch_series_columns_per_family(tmp_path, monkeypatch):
    """The GAN's W&B table keeps its columns; the VAE's adds a reconstruction image and its own numbers."""
    from genlat.rundir import RunDir
    from genlat.tracking import Tracker
    from genlat.trainers import GANTrainer, VAETrainer

    monkeypatch.setenv("WANDB_MODE", "disabled")
    run = RunDir(tmp_path / "run")
    run.create()
    gan = Tracker(TrainConfig(), run, "gan00001", {}, GANTrainer.SERIES, GANTrainer.GRIDS)
    assert gan.series_columns == [
        "epoch",
        "zn",
        "lr",
        "grid",
        "loss_d",
        "loss_g",
        "fd",
        "kid",
        "precision",
        "recall",
        "ppl",
    ]
    gan.finish()
    vae = Tracker(TrainConfig(model="vae"), run, "vae00001", {}, VAETrainer.SERIES, VAETrainer.GRIDS)
    assert vae.series_columns == [
        "epoch",
        "zn",
        "lr",
        "grid",
        "reconstruction",
        "loss",
        "recon",
        "kl",
        "active_units",
        "fd",
        "kid",
        "precision",
        "recall",
        "ppl",
    ]
    row = {"epoch": 3, "epoch/loss": 9.0, "epoch/recon": 7.0, "epoch/kl": 2.0, "eval/active_units": 5, "eval/fd": 1.5}
    values = vae.series_row(row, ["G", "R"])
    assert values == [3, 100, 2e-4, "G", "R", 9.0, 7.0, 2.0, 5, 1.5, None, None, None, None]
    vae.finish()
