"""The evaluation (genlat.metrics): each metric on cases whose answer is known (in the shipped
shapes feature net), the per-epoch keys a run writes with their stamp, and `genlat eval RUN_DIR`."""

import hashlib
import math

import pytest
import torch

from genlat.cli import main, parse_args, train_main
from genlat.config import TrainConfig
from genlat.data import FACTOR_NAMES, FACTOR_SIZES, ShapesSource
from genlat.errors import ConfigError
from genlat.metrics import METRIC_VERSION
from genlat.metrics.coverage import ORIENT_FOLD, factor_coverage
from genlat.metrics.quality import QualityMetrics
from genlat.metrics.reference_nets import shapes_feature_space
from genlat.metrics.smoothness import interpolation_smoothness, perceptual_path_length
from tests.helpers import metrics_rows, only_run


@pytest.fixture(scope="module")
def space():
    return shapes_feature_space(32)  # the shipped net (tests/test_reference_nets.py checks it)


def renders(start, n):
    return ShapesSource(10, 32).render_indices(torch.arange(start, start + n))


def test_fd_kid_precision_recall_on_known_cases(space):
    real, real2 = space.features(renders(10**6, 400)), space.features(renders(2 * 10**6, 400))
    noise = space.features(torch.rand(400, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    collapsed = space.features(renders(3 * 10**6, 1).repeat(400, 1, 1, 1))
    q = QualityMetrics(real)
    same, far, one = q(real2), q(noise), q(collapsed)
    assert same["fd"] < 0.1 * far["fd"] and same["kid"] < 0.1 * far["kid"]
    assert abs(same["kid"]) < 3 * same["kid_std"] + 1e-3 * far["kid"] and same["kid_std"] > 0
    assert same["precision"] > 0.75 and same["recall"] > 0.75
    assert far["precision"] < 0.1
    assert one["recall"] < 0.05  # one image repeated covers none of the real manifold


def test_fd_and_kid_equal_torchmetrics():
    """genlat computes FD and KID itself (no torchmetrics import at run time), with torchmetrics' arithmetic."""
    import warnings

    from torch import nn
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    class Given(nn.Module):  # features in, features out
        num_features = 12

        def forward(self, x):
            return x

    gen = torch.Generator().manual_seed(0)
    real = torch.randn(300, 12, generator=gen, dtype=torch.float64)
    fake = torch.randn(200, 12, generator=gen, dtype=torch.float64) * 1.3 + 0.2
    fid = FrechetInceptionDistance(feature=Given(), sync_on_compute=False)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kid = KernelInceptionDistance(feature=Given(), subsets=20, subset_size=100, sync_on_compute=False)
    kid.update(real, real=True)
    kid.update(fake, real=False)
    with torch.random.fork_rng():
        torch.manual_seed(7)
        kid_mean, kid_std = kid.compute()
    ours = QualityMetrics(real, kid_subset_size=100, seed=7)(fake)
    assert ours["fd"] == pytest.approx(float(fid.compute()), rel=1e-12)
    assert (ours["kid"], ours["kid_std"]) == pytest.approx((float(kid_mean), float(kid_std)), rel=1e-12)


def test_factor_coverage_of_real_and_collapsed_factors():
    true = ShapesSource(10, 32).factors_for(torch.arange(5000) + 10**6).classes
    real = factor_coverage(true)
    for name in FACTOR_NAMES:
        assert real[f"coverage_kl_{name}"] < 0.01  # plug-in bias (K-1)/2N <= 0.003
    one = factor_coverage(true[:1].repeat(500, 1))
    for name, k in zip(FACTOR_NAMES, FACTOR_SIZES):
        k = ORIENT_FOLD if name == "orientation" else k
        assert one[f"coverage_kl_{name}"] == pytest.approx(math.log(k))  # one class repeated: log K
    assert one["shape_share_" + ("square", "ellipse", "heart")[int(true[0, 0])]] == 1.0


def _toy_generators(zn=16):
    g = torch.Generator().manual_seed(0)
    w1, w2 = torch.randn(zn, 1024, generator=g) / zn**0.5, torch.randn(zn, 1024, generator=g) / zn**0.5

    def smooth(z):
        return torch.tanh(z @ w1).view(-1, 1, 32, 32)

    def jagged(z):  # the same, plus a high-frequency ripple in z
        return torch.tanh(z @ w1 + 0.3 * torch.sin(300 * (z @ w2))).view(-1, 1, 32, 32)

    def jumpy(z):  # the same, but the image flips where z crosses a hyperplane: a jump, not a morph
        return torch.where((z[:, :1] > 0).view(-1, 1, 1, 1), smooth(z), -smooth(z))

    return smooth, jagged, jumpy


def test_ppl_and_step_evenness_see_a_jagged_generator(space):
    smooth, jagged, jumpy = _toy_generators()
    ppl_smooth = perceptual_path_length(smooth, space.features, 16, 64, seed=0)
    ppl_jagged = perceptual_path_length(jagged, space.features, 16, 64, seed=0)
    assert math.isfinite(ppl_smooth) and ppl_jagged > 10 * ppl_smooth
    bank = torch.randn(16, 16, generator=torch.Generator().manual_seed(1))
    s = interpolation_smoothness(smooth, space.features, bank, 8, ["slerp", "lerp"])
    j = interpolation_smoothness(jumpy, space.features, bank, 8, ["slerp"])
    # 1.7x in the shipped net, which never saw noise textures like these: the jump still stands out
    assert j["interp_cv_slerp"] > 1.5 * s["interp_cv_slerp"] and j["interp_peak_slerp"] > s["interp_peak_slerp"]
    assert 1 <= s["interp_peak_slerp"] <= 7
    assert s["interp_znorm_slerp"] == pytest.approx(1.0, abs=0.15)
    assert s["interp_znorm_lerp"] < 0.9  # lerp leaves the prior's shell


def test_eval_settings_are_checked():
    assert parse_args(["--eval_samples", "0"]).eval_samples == 0
    with pytest.raises(ConfigError, match="--eval_samples=5"):
        parse_args(["--eval_samples", "5"])
    with pytest.raises(ConfigError, match="--eval_every"):
        TrainConfig(eval_every=-1)


def test_the_full_evaluation_only_where_asked_and_the_sample_measures_every_epoch(tmp_path, tiny_args, space):
    """--eval_full_every 0 (the main job): FD, KID, precision, recall and coverage every epoch, the path and
    claim measures after the last one only."""
    assert train_main([*tiny_args, "--epochs", "3", "--eval_full_every", "0"]) == 0
    first, second, last = metrics_rows(only_run(tmp_path / "runs"))
    for row in (first, second):
        assert {"eval/fd", "eval/kid", "eval/precision", "eval/recall", "eval/coverage_kl_mean"} <= set(row)
        assert not {"eval/ppl", "eval/interp_cv_slerp", "eval/class_flips_slerp", "eval/jacobian_dims90"} & set(row)
    assert {"eval/fd", "eval/ppl", "eval/interp_cv_slerp", "eval/detail_hf_ratio", "eval/jacobian_dims90"} <= set(last)
    with pytest.raises(ConfigError, match="--eval_full_every"):
        TrainConfig(eval_full_every=-1)


def test_a_run_writes_eval_keys_and_genlat_eval_reads_it(tmp_path, tiny_args, capsys, space):
    assert train_main([*tiny_args, "--epochs", "2", "--eval_every", "2"]) == 0
    run = only_run(tmp_path / "runs")
    rows = metrics_rows(run)
    assert not any(k.startswith("eval/") for k in rows[0])  # --eval_every 2: epoch 2 only
    row = rows[1]
    for key in (
        "fd",
        "kid",
        "kid_std",
        "precision",
        "recall",
        "ppl",
        "coverage_kl_shape",
        "coverage_kl_mean",
        "interp_cv_slerp",
        "interp_cv_lerp",
        "interp_znorm_lerp",
        "seconds",
        "jacobian_dims90",
        "jacobian_pr",
        "fragments_mean",
        "fragmented_share",
        "detail_hf_ratio",
        "class_flips_slerp",
        "class_flips_lerp",
    ):  # the last line: the claims' measures (issue 14)
        assert math.isfinite(row[f"eval/{key}"]), key
    assert 1 <= row["eval/jacobian_dims90"] <= 8  # zn 8
    assert row["eval/feature_space"] == space.name and row["eval/samples"] == 32  # the stamp
    assert row["eval/metric_version"] == METRIC_VERSION
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    capsys.readouterr()

    assert main(["eval", str(run), "--samples", "32"]) == 0
    out = capsys.readouterr().out
    assert "after epoch 2" in out and "eval/fd" in out and "eval/recall" in out and row["eval/feature_space"] in out
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before  # genlat eval writes nothing


def test_genlat_eval_refuses_what_is_not_a_run(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nothing")]) == 4
    (tmp_path / "empty").mkdir()
    assert main(["eval", str(tmp_path / "empty")]) == 4
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    assert main(["eval", str(tmp_path / "broken")]) == 4
    assert main(["eval"]) == 2
    (tmp_path / "listed").mkdir()
    (tmp_path / "listed" / "config.json").write_text("[1, 2]")
    assert main(["eval", str(tmp_path / "listed")]) == 4
    err = capsys.readouterr().err
    assert err.count("genlat: error:") == 5 and "Traceback" not in err
    assert "listed/config.json is damaged (a list, not an object)" in err and err.count("no config.json") == 1


def test_eval_off_writes_no_eval_keys(tmp_path, tiny_args):
    assert train_main([*tiny_args, "--epochs", "1", "--eval_every", "0"]) == 0
    (row,) = metrics_rows(only_run(tmp_path / "runs"))
    assert not any(k.startswith("eval/") for k in row)


def test_a_folder_run_is_evaluated_in_a_rotation_feature_space(tmp_path, tiny_args):
    from PIL import Image

    root = tmp_path / "imgs"
    root.mkdir()
    g = torch.Generator().manual_seed(0)
    for i in range(80):  # a bright bar on noise, at a random height: rotation is visible
        img = (torch.rand(32, 32, 3, generator=g) * 80).to(torch.uint8)
        row = int(torch.randint(4, 20, (1,), generator=g))
        img[row : row + 6, 4:28] = 255
        img[row : row + 12, 4:8] = 200  # and a foot, so that 180 degrees differs from 0
        Image.fromarray(img.numpy()).save(root / f"{i:03d}.png")
    args = [*tiny_args, "--dataset", f"folder:{root}", "--epoch_size", "64", "--epochs", "1", "--eval_every", "1"]
    assert train_main(args) == 0
    (row,) = metrics_rows(only_run(tmp_path / "runs"))
    assert row["eval/feature_space"].startswith("folder-rotnet-32px@") and row["eval/metric_version"] == METRIC_VERSION
    assert math.isfinite(row["eval/fd"]) and 0 <= row["eval/recall"] <= 1
    assert "eval/coverage_kl_shape" not in row  # factor coverage needs ground-truth factors
    # fragments and class flips need one object per image and its class: not measurable on a folder
    assert not {
        "eval/fragments_mean",
        "eval/fragmented_share",
        "eval/class_flips_slerp",
        "eval/class_flips_lerp",
    } & set(row)
    assert row["eval/detail_hf_ratio"] > 0 and 1 <= row["eval/jacobian_dims90"] <= 8


@pytest.mark.slow
def test_inception_weights_file_gives_the_inception_space(tmp_path):
    from torchvision.models import inception_v3

    from genlat.metrics.features import inception_feature_space, inception_weights

    path = tmp_path / "inception.pth"
    torch.save(inception_v3(weights=None, aux_logits=True, init_weights=True).state_dict(), path)
    space = inception_feature_space(inception_weights(str(path)))
    assert space.name == "inception_v3-torchvision@" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert space.features(torch.rand(2, 1, 32, 32) * 2 - 1).shape == (2, 2048)
    with pytest.raises(ConfigError, match="--eval_inception"):
        inception_weights(str(tmp_path / "missing.pth"))
