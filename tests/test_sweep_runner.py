"""`genlat sweep` end to end on tiny trials: workers, resume after the runner is killed, retries,
hyperband, several runners on one DIR. Each trial is a real `python train.py` of ~1 s of training
(plus its imports)."""

import json
import signal
import time

import pytest

from genlat.sweep.resources import Resources
from genlat.sweep.spec import load_spec
from genlat.sweep.state import SweepState, new_trial
from tests.helpers import epochs, run_sweep, runner, sweep_file, sweep_state, wait_for


def _has_epoch(run_dir):
    path = run_dir / "metrics.jsonl"
    return path.exists() and path.read_text().strip() != ""


def test_tiny_grid_with_two_workers(tmp_path):
    d = tmp_path / "sweep"
    path = sweep_file(tmp_path / "tiny.yaml")
    done = run_sweep([str(path), "--dir", str(d), "--workers", "2"])
    assert done.returncode == 0, done.stderr
    share = Resources(workers=2).describe()  # GPUs, else this machine's cores split between 2 workers
    assert f"2 worker(s), {share}," in done.stderr
    state = sweep_state(d)
    assert [t["params"]["zn"] for t in state["trials"]] == [8, 16]
    for t in state["trials"]:
        assert t["state"] == "finished" and t["attempts"] == 1 and t["epoch"] == 1 and t["best"] is not None
        run = d / "runs" / t["name"]
        config = json.loads((run / "config.json").read_text())
        assert (
            config["wandb_id"] == t["id"]
            and config["wandb_group"] == state["group"] == f"tiny-{state['sweep_id']}"
            and config["zn"] == t["params"]["zn"]
        )
        (offline,) = (run / "wandb").glob("offline-run-*")  # an offline W&B run that `wandb sync` can upload
        assert offline.name.endswith(t["id"])
        assert (d / "logs" / f"{t['name']}.log").exists()
    assert (d / "sweep.yaml").read_text() == path.read_text()
    best = min(state["trials"], key=lambda t: t["best"])  # the metric is epoch/loss_g, minimized
    assert f"results: {d}/runs" in done.stderr and f"best: {best['name']}" in done.stderr

    again = run_sweep([str(path), "--dir", str(d), "--workers", "2"])  # re-running a finished sweep runs nothing
    assert again.returncode == 0 and " start " not in again.stderr
    assert [t["attempts"] for t in sweep_state(d)["trials"]] == [1, 1]

    status = run_sweep(["--status", str(d)])
    assert status.returncode == 0 and "t000-zn8" in status.stdout and "finished" in status.stdout
    assert "best:" in status.stdout


def test_failed_trial_is_recorded_and_retried_a_limited_number_of_times(tmp_path):
    d = tmp_path / "sweep"
    # each value passes on its own; together train.py refuses them (it needs n_samples >= 2 * interp_pairs)
    path = sweep_file(tmp_path / "bad.yaml", zn=(8,), params={"n_samples": {"values": [4]}, "interp_pairs": 4})
    done = run_sweep([str(path), "--dir", str(d), "--retries", "1"])
    assert done.returncode == 0, done.stderr
    (t,) = sweep_state(d)["trials"]
    assert t["state"] == "failed" and t["attempts"] == 2 and t["failures"] == 2 and t["exit_code"] == 2
    assert "needs --n_samples >= 8" in t["error"]
    again = run_sweep([str(path), "--dir", str(d), "--retries", "1"])
    assert again.returncode == 0 and sweep_state(d)["trials"][0]["attempts"] == 2  # not retried forever
    assert f"failed: {t['name']}" in again.stderr


@pytest.mark.slow
def test_runner_stopped_and_killed_then_rerun_loses_and_repeats_nothing(tmp_path, request):
    d = tmp_path / "sweep"
    path = sweep_file(tmp_path / "kill.yaml", params={"epochs": 3, "epoch_size": 512})
    args = [str(path), "--dir", str(d), "--workers", "1"]
    first_run = d / "runs" / "t000-zn8"

    # 1. SIGTERM the runner during the first trial: it stops the trial, which stays resumable
    proc = runner(args)
    request.addfinalizer(lambda: proc.poll() is None and proc.kill())
    wait_for(lambda: _has_epoch(first_run), what="the first epoch")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 75, err
    t0 = sweep_state(d)["trials"][0]
    assert t0["state"] == "preempted" and t0["owner"] is None
    assert json.loads((first_run / "status.json").read_text())["state"] == "preempted"
    assert "re-run the same command" in err

    # 2. SIGKILL it: the trial it was running is orphaned, still training, and marked running
    proc = runner(args)
    request.addfinalizer(lambda: proc.poll() is None and proc.kill())
    wait_for(lambda: sweep_state(d)["trials"][0]["attempts"] == 2, what="the resume")
    time.sleep(1.0)
    proc.kill()
    proc.communicate(timeout=30)

    # 3. the same command again: the orphan is stopped, its trial resumed, the grid finished
    done = run_sweep(args, timeout=400)
    assert done.returncode == 0, done.stderr
    state = sweep_state(d)
    assert [t["state"] for t in state["trials"]] == ["finished", "finished"]
    assert state["trials"][1]["attempts"] == 1
    for t in state["trials"]:
        run = d / "runs" / t["name"]
        assert epochs(run) == [1, 2, 3]  # every epoch once: nothing lost, nothing repeated
        assert json.loads((run / "config.json").read_text())["wandb_id"] == t["id"]  # one W&B run throughout
        assert all(p.name.endswith(t["id"]) for p in (run / "wandb").glob("offline-run-*"))


@pytest.mark.slow
def test_two_runners_share_one_directory(tmp_path):
    d = tmp_path / "sweep"
    path = sweep_file(tmp_path / "shared.yaml", zn=(8, 16, 24))
    procs = [runner([str(path), "--dir", str(d), "--workers", "1"]) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=400)
        assert p.returncode == 0, err
    trials = sweep_state(d)["trials"]
    assert sorted(t["params"]["zn"] for t in trials) == [8, 16, 24]  # each grid point once
    assert all(t["state"] == "finished" and t["attempts"] == 1 for t in trials)
    assert all(t["owner"] is None and t["heartbeat"] is None for t in trials)  # every claim released


@pytest.mark.slow
def test_hyperband_stops_a_trial_that_trails(tmp_path):
    """Two finished trials reached a loss no real trial reaches; hyperband stops the third after its first band."""
    d = tmp_path / "sweep"
    path = sweep_file(
        tmp_path / "hb.yaml", zn=(8, 16, 24), params={"epochs": 4, "epoch_size": 1024},
        early_terminate={"type": "hyperband", "min_iter": 1, "eta": 2},
    )  # fmt: skip
    spec = load_spec(path)
    state = SweepState(d)
    state.create_or_check(spec)
    with state.locked() as data:
        for i, zn in enumerate((8, 16)):
            params = {k: v["value"] for k, v in spec.config["parameters"].items() if "value" in v}
            t = new_trial(i, {**params, "zn": zn}, spec.varying, None)
            t.update(
                state="finished",
                epoch=4,
                history=[{"epoch": e, "epoch/loss_g": 0.001} for e in (1, 2, 3, 4)],
                best=0.001,
            )
            data["trials"].append(t)
    done = run_sweep([str(path), "--dir", str(d)])
    assert done.returncode == 0, done.stderr
    t = sweep_state(d)["trials"][2]
    assert t["params"]["zn"] == 24  # the grid's next point
    assert t["state"] == "stopped" and t["error"] == "stopped by hyperband", done.stderr
    assert 1 <= t["epoch"] < 4 and "hyperband stops t002-zn24" in done.stderr
