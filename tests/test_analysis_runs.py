"""analysis/ reads a run directory on its own: config, every epoch, the images, the state; and every
key a real GAN or VAE run logs is in the metric registry, as the family and dataset it names."""

from analysis.load.runs import find_runs, load_run
from genlat.cli import train_main
from genlat.metrics import registry


def test_load_a_real_run(tmp_path, tiny_args):
    assert train_main([*tiny_args, "--epochs", "2", "--zn", "8"]) == 0
    assert train_main([*tiny_args, "--epochs", "1", "--zn", "16"]) == 0
    runs = find_runs(tmp_path / "runs")
    assert [r.config["zn"] for r in runs] == [16, 8]  # sorted by name
    run = load_run(runs[1].path)
    assert run.state == "finished"
    assert [e for e, _ in run.series("epoch/loss_g")] == [1, 2]
    assert sorted(run.samples) == [1, 2]
    assert set(run.panels) == {(2, "slerp"), (2, "lerp")}
    assert run.config["g_params"] > 0
    _logged_keys_are_registered(run, "dcgan")


def test_a_vae_run_logs_only_registered_keys(tmp_path, tiny_args):
    assert train_main([*tiny_args, "--model", "vae", "--epochs", "1"]) == 0
    (run,) = find_runs(tmp_path / "runs")
    _logged_keys_are_registered(run, "vae")


def _logged_keys_are_registered(run, family: str) -> None:
    """Every metrics key is registered (its own entry or its family's), the family logs it, the
    dataset (shapes) is one that can, and each line with eval numbers carries the whole stamp."""
    keys = {k for line in run.metrics for k in line if "/" in k}
    assert {k for k in keys if registry.lookup(k) is None} == set(), "register these keys in genlat/metrics/registry.py"
    assert {k for k in keys if registry.lookup(k).families not in (None, (family,))} == set()
    assert {k for k in keys if registry.lookup(k).datasets not in (None, ("shapes",))} == set()
    assert {
        "eval/fd",
        "eval/claims_seconds",
        "epoch/images_per_s",
    } <= keys  # evaluated and timed: the test sees both kinds
    for line in run.metrics:
        if "eval/fd" in line:
            assert set(registry.STAMP_KEYS) <= set(line)
    # the other family's own keys are not logged by this one
    other = {m.key for m in registry.METRICS if m.families and family not in m.families}
    assert other and not keys & other
