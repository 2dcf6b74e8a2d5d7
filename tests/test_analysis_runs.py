"""analysis/ reads a run directory on its own: config, every epoch, the images, the state."""

from analysis.runs import find_runs, load_run
from genlat.cli import train_main


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
