"""The measuring stick: the shipped shapes feature nets are the files the manifest names, a damaged
one is refused (exit 3) instead of retrained, evaluation of one checkpoint gives the same printed
numbers in any process, and data-trained nets are named after their weights."""

import hashlib
import json
import re
import shutil
import subprocess
import sys

import pytest
import torch

from genlat.cli import main, train_main
from genlat.data import ShapesSource
from genlat.metrics.features import cache_dir, rotation_feature_space, save_cached
from genlat.metrics.reference_nets import MANIFEST, TEST_OFFSET, factor_accuracy, shapes_feature_space, weights_dir
from tests.helpers import ROOT, TINY, child_env, metrics_rows, only_run


@pytest.mark.parametrize("size", [32, 64])
def test_shipped_nets_are_the_manifests(size):
    manifest = json.loads((weights_dir() / MANIFEST).read_text())[str(size)]
    data = (weights_dir() / manifest["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == manifest["sha256"] and len(data) == manifest["bytes"] < 3 * 2**20
    space = shapes_feature_space(size)
    assert space.name == f"shapes-factornet-{size}px@{manifest['sha256'][:12]}"
    # the recorded held-out accuracy is what the shipped weights give (on a subset of its test renders)
    source, idx = ShapesSource(2, size), torch.arange(400) + TEST_OFFSET
    _, pred = space.features_and_factors(source.render_indices(idx))
    acc = factor_accuracy(pred, source.factors_for(idx).classes)
    for factor in ("shape", "scale", "x", "y"):
        assert acc[factor] == pytest.approx(manifest["heldout_accuracy"][factor], abs=0.06), factor
    assert manifest["heldout_accuracy"]["shape"] > 0.9 and manifest["heldout_accuracy"]["x_within1"] > 0.9


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, genlat_cache):
    """A tiny run with one evaluated epoch and its checkpoint."""
    out = tmp_path_factory.mktemp("pure") / "runs"
    with pytest.MonkeyPatch.context() as mp:  # conftest's isolation is per test; this runs once per module
        mp.setenv("WANDB_MODE", "disabled")
        mp.setenv("GENLAT_OFFLINE", "1")
        mp.setenv("GENLAT_CACHE", str(genlat_cache))
        assert train_main([*TINY, "--out", str(out), "--epochs", "1"]) == 0
    return only_run(out)


def _genlat(args, **env) -> subprocess.Popen:
    """`genlat ARGS` started in its own process (wait with .communicate())."""
    return subprocess.Popen(
        [sys.executable, "-m", "genlat", *args],
        cwd=ROOT,
        env=child_env(COLUMNS="200", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _printed(stdout: str) -> dict[str, str]:
    """metric -> value as `genlat eval` prints it, without the timings."""
    rows = dict(re.findall(r"(eval/\S+)\s*│\s*(\S+)\s*│", stdout))
    return {k: v for k, v in rows.items() if not k.endswith("seconds")}


def test_eval_of_a_checkpoint_is_the_same_in_any_process(trained_run, tmp_path):
    procs = [
        _genlat(["eval", str(trained_run)], OMP_NUM_THREADS=str(n), GENLAT_CACHE=str(tmp_path / f"cache{n}"))
        for n in (1, 2)
    ]  # side by side: the test's time is one evaluation's
    (out1, err1), (out2, err2) = (p.communicate(timeout=300) for p in procs)
    assert procs[0].returncode == procs[1].returncode == 0, err1 + err2
    printed = _printed(out1)
    assert len(printed) > 15 and printed == _printed(out2)
    row = metrics_rows(trained_run)[-1]  # the run's own evaluation of the same checkpoint, in-process
    for key in ("eval/fd", "eval/kid", "eval/precision", "eval/recall", "eval/ppl", "eval/coverage_kl_mean"):
        assert printed[key] == f"{row[key]:.4g}", key
    assert printed["eval/feature_space"] == row["eval/feature_space"] and printed["eval/metric_version"] == "2"


def _damaged_copy(folder, damage: str):
    """A copy of the shipped weights whose 32 px file is tampered with (one bit) or truncated."""
    shutil.copytree(weights_dir(), folder)
    path = folder / "shapes-factornet-32px.pt"
    data = bytearray(path.read_bytes())
    if damage == "tampered":
        data[len(data) // 2] ^= 1
    else:
        del data[len(data) // 3 :]
    path.write_bytes(bytes(data))
    return folder


@pytest.mark.parametrize("damage", ["tampered", "truncated"])
def test_a_damaged_reference_net_is_refused_not_retrained(trained_run, tmp_path, monkeypatch, capsys, damage):
    monkeypatch.setenv("GENLAT_WEIGHTS", str(_damaged_copy(tmp_path / "weights", damage)))
    monkeypatch.setenv("GENLAT_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "runs"
    for command in (["eval", str(trained_run)], ["train", *TINY, "--out", str(out)]):  # the two entry points
        capsys.readouterr()
        assert main(command) == 3
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert "shapes-factornet-32px.pt" in line and "sha256" in line and "Traceback" not in line
    assert not out.exists() and not (tmp_path / "cache").exists()  # nothing created, nothing trained


def test_data_trained_nets_are_named_after_their_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAT_CACHE", str(tmp_path / "cache"))
    images = torch.rand(64, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    dataset = {"dataset": "folder:x", "image_size": 32, "channels": 1, "items": 64}
    first = rotation_feature_space(dataset, images, epochs=1, log=lambda m: None)
    assert rotation_feature_space(dataset, images, epochs=1).name == first.name  # the cached net: same name
    # another machine trained other weights with the same settings: the name must differ
    (path,) = cache_dir().glob("rotnet-*.pt")
    saved = torch.load(path, weights_only=True)
    with torch.no_grad():
        first.net.head.bias += 0.01
    save_cached(path, first.net, saved["info"])
    other = rotation_feature_space(dataset, images, epochs=1, log=lambda m: pytest.fail("trained again: " + m))
    assert other.name != first.name and other.name.split("@")[0] == first.name.split("@")[0]
