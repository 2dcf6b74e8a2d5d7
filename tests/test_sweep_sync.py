"""`genlat sweep --sync DIR` against the local W&B server with the real `wandb sync`: it counts only
what wandb really uploaded (wandb exits 0 after "No runs to sync." and after a server's refusal),
leaves nothing in the caller's folder, and uploads the trials under a group that is this sweep's
alone (two sweeps of one file do not merge on the server)."""

import json
import shutil
import subprocess
import sys

import pytest

from genlat.sweep.spec import load_spec
from genlat.sweep.state import SweepState
from tests.helpers import ROOT, child_env, sweep_file, sweep_state


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished offline sweep of two tiny trials, made once for the module (copy it before use)."""
    tmp = tmp_path_factory.mktemp("trained")
    path = sweep_file(tmp / "tiny.yaml")
    env = child_env(WANDB_MODE="offline", WANDB_SILENT="true", NETRC=str(tmp / "no-netrc"),
                    WANDB_CONFIG_DIR=str(tmp / "wandb-config"), WANDB_CACHE_DIR=str(tmp / "wandb-cache"))  # fmt: skip
    for key in ("WANDB_API_KEY", "WANDB_BASE_URL", "WANDB_RUN_ID", "WANDB_SWEEP_ID"):
        env.pop(key, None)
    done = subprocess.run([sys.executable, "-m", "genlat", "sweep", str(path), "--dir", str(tmp / "sweep")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=400)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp / "sweep"


def _sync(d, cwd):
    return subprocess.run([sys.executable, "-m", "genlat", "sweep", "--sync", str(d)], cwd=cwd, env=child_env(),
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _server_runs(server):
    return {run.name: run for run in server.store.runs.values()}


def test_sync_counts_what_wandb_uploaded_under_the_sweeps_own_group(trained, tmp_path, wandb_server):
    d = shutil.copytree(trained, tmp_path / "sweep")
    state = sweep_state(d)
    group = state["group"]
    assert group == f"tiny-{state['sweep_id']}"
    first, second = state["trials"]
    for t in (first, second):  # each trial ran with it (config.json; W&B has it as the run's group)
        assert json.loads((d / "runs" / t["name"] / "config.json").read_text())["wandb_group"] == group
    # the first trial was uploaded by hand earlier (wandb's marker beside its log), to another server
    (log,) = (d / "runs" / first["name"] / "wandb").glob("offline-run-*/run-*.wandb")
    log.with_name(log.name + ".synced").touch()
    caller = tmp_path / "elsewhere"
    caller.mkdir()
    done = _sync(d, caller)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"synced 1 trial(s), 1 already synced, 0 failed; group '{group}'" in done.stderr  # before: "synced 2"
    assert f"{first['name']}: already synced by an earlier `wandb sync`" in done.stderr
    runs = _server_runs(wandb_server)
    assert set(runs) == {second["id"]}
    assert runs[second["id"]].group == group and f"sweep-{state['sweep_id']}" in runs[second["id"]].tags
    assert runs[second["id"]].state == "finished"
    assert list(caller.iterdir()) == []  # before: ./wandb/ with wandb sync's debug logs
    assert list((d / "logs" / "wandb").iterdir())  # they are the sweep's now
    assert all(t["synced"] for t in sweep_state(d)["trials"])
    again = _sync(d, caller)
    assert again.returncode == 0 and "synced 0 trial(s), 0 failed" in again.stderr


def test_a_sync_the_server_refuses_counts_as_failed(trained, tmp_path, wandb_server, monkeypatch):
    """wandb sync prints the server's 401 as an ERROR line and exits 0; before, the trial counted as synced."""
    d = shutil.copytree(trained, tmp_path / "sweep")
    monkeypatch.setenv("WANDB_API_KEY", "w" * 40)  # a key this server does not know
    done = _sync(d, tmp_path)
    assert done.returncode == 69, done.stderr[-3000:]
    assert "synced 0 trial(s), 2 failed" in done.stderr
    (line, _) = [ln for ln in done.stderr.splitlines() if "was not uploaded" in ln]
    assert "401" in line and "--sync again retries it" in line
    assert not any(t["synced"] for t in sweep_state(d)["trials"])
    assert _server_runs(wandb_server) == {}


def test_two_sweeps_of_one_file_get_two_groups(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    spec = load_spec(sweep_file(tmp_path / "same.yaml"))
    groups = {SweepState(tmp_path / d).create_or_check(spec)["group"] for d in ("a", "b")}
    assert len(groups) == 2 and all(g.startswith("same-") for g in groups)
