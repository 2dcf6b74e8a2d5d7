"""Runners that share one sweep folder decide who runs what under the sweep lock, on a fresh read:
an owner that is alive (its heartbeat fresh, or its pid alive on this host) is never taken over,
whatever GENLAT_SWEEP_STALE_S says; one that is gone is taken over once, also when it died between
claiming a trial and starting it, and processes it left on this host are stopped first. Two runners
raced on one folder train every epoch of every trial once and lose none."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from genlat.sweep.procs import process_start_time
from genlat.sweep.spec import load_spec
from genlat.sweep.state import SweepState
from genlat.sweep.trial import Owner, Trial
from tests.helpers import ROOT, child_env, epochs, sweep_file, sweep_state, wait_for

STALE_S = "3"  # seconds of silence before another host's runner takes a trial over (300 by default)
TAKEN = ("taken over", "its runner is gone", "runner went away")  # what a runner says when it takes one


def _runner(args, host, **env):
    env = child_env(GENLAT_HOSTNAME=host, GENLAT_SWEEP_STALE_S=STALE_S, **env)
    return subprocess.Popen([sys.executable, "-m", "genlat", "sweep", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip


def _headers(log) -> int:
    """How many attempts were started: each writes one '=== … attempt N on HOST' line to the log."""
    return sum(line.startswith("=== ") for line in log.read_text().splitlines())


def _race(tmp_path, name):
    d = tmp_path / name
    path = sweep_file(tmp_path / f"{name}.yaml", zn=(8, 16, 24, 32), params={"epochs": 2})
    args = [str(path), "--dir", str(d), "--workers", "1"]
    runners = [_runner(args, host) for host in ("node-a", "node-b")]  # started together, racing for the folder
    errs = []
    try:
        for p in runners:
            _, err = p.communicate(timeout=600)
            assert p.returncode == 0, err
            errs.append(err)
    finally:
        for p in runners:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    trials = sweep_state(d)["trials"]
    assert sorted(t["params"]["zn"] for t in trials) == [8, 16, 24, 32]  # none lost, none added twice
    for t in trials:
        assert (t["state"], t["attempts"], t["failures"], t["owner"]) == ("finished", 1, 0, None), (t, errs)
        assert epochs(d / "runs" / t["name"]) == [1, 2]  # each epoch trained and recorded once
        assert _headers(d / "logs" / f"{t['name']}.log") == 1  # one process per trial, ever
    assert not any(word in err for err in errs for word in TAKEN), errs
    return errs


def test_two_runners_raced_on_one_folder_train_each_epoch_once(tmp_path):
    errs = _race(tmp_path, "race")
    assert all(" start t0" in err for err in errs)  # both took part


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_two_runners_raced_again_and_again(tmp_path, round_):
    _race(tmp_path, f"race{round_}")


# --- take-over decisions on a sweep state written by hand (no race) -----------------------------------
@pytest.fixture
def one_trial(tmp_path, monkeypatch):
    """A sweep of one tiny trial, claimed (attempt 1) by an owner the test chooses."""
    monkeypatch.chdir(ROOT)
    path = sweep_file(tmp_path / "one.yaml", zn=(8,))
    spec = load_spec(path)
    state = SweepState(tmp_path / "sweep")
    state.create_or_check(spec)

    def claim(owner: Owner, heartbeat: float) -> Trial:
        params = {k: v["value"] for k, v in spec.config["parameters"].items() if "value" in v}
        trial = Trial.new(0, {**params, "zn": 8}, spec.varying, None)
        trial.claim(owner)
        trial.heartbeat = heartbeat
        with state.transaction() as sweep:
            sweep.trials.append(trial)
        return trial

    return path, state, claim


def _dead_owner() -> Owner:
    """The owner record of a runner process that has exited (its pid is free, or someone else's)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    owner = Owner(Owner.me().host, proc.pid, process_start_time(proc.pid))
    proc.wait()
    return owner


def _sweep(path, state, host=None):
    proc = _runner([str(path), "--dir", str(state.root)], host or Owner.me().host)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def _beating(state, name, stop):
    """What an alive runner on another host does: beat the trial's heartbeat, until `stop` is set."""
    while not stop.wait(0.2):
        with state.transaction() as sweep:
            sweep.trial(name).heartbeat = time.time()


@pytest.mark.parametrize("owner", ["this host, pid alive, heartbeat ancient", "another host, heartbeat beating"])
def test_an_alive_owner_is_never_taken_over(one_trial, owner):
    path, state, claim = one_trial
    stop, helpers = threading.Event(), []
    if owner.startswith("this host"):
        alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        helpers.append(alive)
        me = Owner(Owner.me().host, alive.pid, process_start_time(alive.pid))
        trial = claim(me, heartbeat=time.time() - 86400)  # a day of silence: on this host the pid decides
    else:
        trial = claim(Owner("node-x", 4242, "1", 4243), heartbeat=time.time())
        beat = threading.Thread(target=_beating, args=(state, trial.name, stop), daemon=True)
        beat.start()
    before = sweep_state(state.root)["trials"][0]
    try:
        code, err = _sweep(path, state)
    finally:
        stop.set()
        for p in helpers:
            p.kill()
            p.wait()
    assert code == 0, err
    after = sweep_state(state.root)["trials"][0]
    assert {**after, "heartbeat": None} == {**before, "heartbeat": None}  # nothing taken, nothing changed
    assert not (state.runs / trial.name).exists() and not any(word in err for word in TAKEN)


def test_a_runner_that_died_between_claim_and_start_loses_no_trial(one_trial):
    """Its trial is running, owned by a dead pid, with no process group written down: resumed once."""
    path, state, claim = one_trial
    trial = claim(_dead_owner(), heartbeat=time.time())  # its heartbeat is fresh: the pid decides on this host
    code, err = _sweep(path, state)
    assert code == 0, err
    (t,) = sweep_state(state.root)["trials"]
    assert (t["state"], t["attempts"], t["owner"]) == ("finished", 2, None), err
    assert epochs(state.runs / trial.name) == [1]
    assert _headers(state.log_path(trial)) == 1  # the dead runner's attempt never started a process


def test_an_orphan_started_just_before_its_runner_died_is_stopped_then_resumed(one_trial, tmp_path):
    """The runner died after starting the trial's process but before writing its group down: the
    process is found by the sweep id and trial name in its environment, stopped, and the trial resumed."""
    path, state, claim = one_trial
    trial = claim(_dead_owner(), heartbeat=time.time())
    sweep_id = json.loads(state.file.read_text())["sweep_id"]
    code = "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(75)); print('up', flush=True); time.sleep(600)"
    orphan = subprocess.Popen([sys.executable, "-c", code], env=child_env(GENLAT_SWEEP_ID=sweep_id, GENLAT_TRIAL=trial.name),
                              stdout=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        assert orphan.stdout.readline().strip() == "up"
        rc, err = _sweep(path, state)
        assert rc == 0, err
        assert orphan.wait(timeout=30) == 75  # stopped by SIGTERM, as a trial is
    finally:
        if orphan.poll() is None:
            orphan.kill()
    assert f"{trial.name}: its runner is gone but the trial still runs; stopping it" in err
    (t,) = sweep_state(state.root)["trials"]
    assert (t["state"], t["attempts"]) == ("finished", 2) and epochs(state.runs / trial.name) == [1]


def test_another_hosts_silent_owner_is_taken_over(one_trial):
    path, state, claim = one_trial
    trial = claim(Owner("node-x", 4242, "1", 4243), heartbeat=time.time() - 2 * float(STALE_S))
    code, err = _sweep(path, state, host="node-y")
    assert code == 0, err
    (t,) = sweep_state(state.root)["trials"]
    assert (t["state"], t["attempts"]) == ("finished", 2) and f"resume {trial.name}" in err


def _freeze(pid, lock_path):
    """SIGSTOP a runner at a moment it does not hold the sweep lock (frozen holding it, it would stall all)."""
    import psutil

    from genlat.lockfile import open_lock, try_lock

    while True:
        os.kill(pid, signal.SIGSTOP)
        while psutil.Process(pid).status() != psutil.STATUS_STOPPED:  # the signal lands a moment later
            time.sleep(0.01)
        fd = open_lock(lock_path)
        try:
            if try_lock(fd):
                return
        finally:
            os.close(fd)
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.05)


@pytest.mark.slow
def test_a_runner_frozen_past_the_stale_limit_stops_its_copy_and_records_nothing(tmp_path):
    """node-a is frozen (SIGSTOP) longer than GENLAT_SWEEP_STALE_S while its trial trains; node-b takes
    the trial over. Woken, node-a finds the trial is no longer its attempt: it stops its copy and writes
    nothing over node-b's record. The run folder's lock keeps one writer throughout: every epoch once."""
    d = tmp_path / "frozen"
    path = sweep_file(tmp_path / "frozen.yaml", zn=(8,), params={"epochs": 3, "epoch_size": 512})
    args = [str(path), "--dir", str(d), "--workers", "1", "--retries", "3"]
    a = _runner(args, "node-a")
    try:
        wait_for(lambda: d.joinpath("sweep.json").exists() and sweep_state(d)["trials"]
                 and (sweep_state(d)["trials"][0]["owner"] or {}).get("pgid"), what="node-a's start")  # fmt: skip
        _freeze(a.pid, d / ".sweep.lock")
        b = _runner(args, "node-b")
        wait_for(lambda: sweep_state(d)["trials"][0]["attempts"] >= 2, timeout=120, what="node-b's take-over")
        os.kill(a.pid, signal.SIGCONT)
        _, err_a = a.communicate(timeout=300)
        _, err_b = b.communicate(timeout=600)
    finally:
        for p in (a, locals().get("b")):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    assert a.returncode == 0 and b.returncode == 0, (err_a, err_b)
    assert "taken over by another runner" in err_a
    (t,) = sweep_state(d)["trials"]
    assert t["state"] == "finished" and t["owner"] is None, (t, err_a, err_b)
    assert epochs(d / "runs" / t["name"]) == [1, 2, 3]
