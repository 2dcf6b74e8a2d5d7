"""Several hosts share one sweep folder (a cluster's shared filesystem): runners that see different
host names (GENLAT_HOSTNAME, the override for hosts whose names collide) split the trials; one host
dies (its runner and its trial killed, so its heartbeat lapses) and another resumes its trial.
No trial runs twice, none is lost, every epoch is recorded once."""

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import ROOT, child_env, epochs, sweep_file, sweep_state, wait_for

STALE_S = "5"  # seconds of silence after which another host takes a trial over (300 by default)


def _host(name: str, args: list[str]) -> subprocess.Popen:
    env = child_env(GENLAT_HOSTNAME=name, GENLAT_SWEEP_STALE_S=STALE_S)
    return subprocess.Popen([sys.executable, "-m", "genlat", "sweep", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip


@pytest.mark.slow
def test_a_dead_hosts_trial_is_resumed_by_another_host(tmp_path, request):
    d = tmp_path / "shared"
    path = sweep_file(tmp_path / "hosts.yaml", zn=(8, 16, 24, 32), params={"epochs": 3, "epoch_size": 512})
    args = [str(path), "--dir", str(d), "--workers", "1"]
    a = _host("node-a", args)
    request.addfinalizer(lambda: a.poll() is None and os.killpg(a.pid, signal.SIGKILL))
    wait_for(lambda: d.joinpath("sweep.json").exists() and sweep_state(d)["trials"], what="node-a's first claim")
    first = sweep_state(d)["trials"][0]
    assert first["owner"]["host"] == "node-a"
    b = _host("node-b", args)
    request.addfinalizer(lambda: b.poll() is None and os.killpg(b.pid, signal.SIGKILL))
    run = d / "runs" / first["name"]
    wait_for(lambda: (run / "metrics.jsonl").exists() and epochs(run), what="node-a's first epoch")

    # node-a dies: its runner and its trial go at once, as with a lost machine; nobody marks anything
    trial_group = sweep_state(d)["trials"][0]["owner"]["pgid"]
    os.killpg(a.pid, signal.SIGKILL)
    os.killpg(trial_group, signal.SIGKILL)
    a.communicate(timeout=30)
    assert sweep_state(d)["trials"][0]["state"] == "running"  # as node-a left it

    _, err = b.communicate(timeout=600)
    assert b.returncode == 0, err
    trials = sweep_state(d)["trials"]
    assert sorted(t["params"]["zn"] for t in trials) == [8, 16, 24, 32]  # none lost, none added twice
    assert all(t["state"] == "finished" for t in trials), [(t["name"], t["state"]) for t in trials]
    assert [t["attempts"] for t in trials] == [2, 1, 1, 1]  # only the dead host's trial ran again
    for t in trials:
        assert epochs(d / "runs" / t["name"]) == [1, 2, 3]  # every epoch once
        config = json.loads((d / "runs" / t["name"] / "config.json").read_text())
        assert config["wandb_id"] == t["id"]  # one W&B run throughout, across the two hosts
    log = (d / "logs" / f"{first['name']}.log").read_text()
    assert "attempt 1 on node-a" in log and "attempt 2 on node-b" in log
    assert f"resume {first['name']}" in err
    assert all("on node-b" in (d / "logs" / f"{t['name']}.log").read_text() for t in trials[1:])
