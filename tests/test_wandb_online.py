"""The online path as a user lives it, against the local W&B server (tests/wandb_server) with the
real, unpatched wandb client: `wandb sweep FILE` -> `wandb agent --count N` starts each trial
through the file's `command:` (`accelerate launch train.py ...`, on the CPU) -> online runs with
the rendered parameters and the agent's run id, every epoch once, the sweep metric's best in the
summary, the sample images and both tables with their images; the sweep ends done. A second sweep
of the same file, with the same --out, trains all of its own trials and changes nothing of the first."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, child_env, sweep_file
from tests.wandb_server import artifacts

ACCELERATE = ["${env}", "accelerate", "launch", "${program}", "${args_no_boolean_flags}"]
WANDB = str(Path(sys.executable).parent / "wandb")


def _cli(args: list[str], env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [WANDB, *args], cwd=ROOT, env=env, text=True, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def _online_env(server, tmp_path: Path) -> dict:
    (tmp_path / "agent-wandb").mkdir(exist_ok=True)
    return child_env(
        WANDB_SILENT="false",
        **server.env(),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        WANDB_DIR=str(tmp_path / "agent-wandb"),
        OMP_NUM_THREADS="1",
    )


def create_sweep(server, path: Path, env: dict) -> str:
    """`wandb sweep FILE` as a user types it; the ENTITY/PROJECT/ID it tells the user to give the agent."""
    made = _cli(["sweep", "--project", "genlat", str(path)], env, timeout=60)
    assert made.returncode == 0, made.stderr[-3000:]
    found = re.search(r"wandb agent (\S+/\S+/\S+)", made.stderr + made.stdout)
    assert found, made.stderr[-3000:]
    return found.group(1)


def run_agent(server, sweep: str, count: int, env: dict, timeout: float = 400) -> subprocess.CompletedProcess:
    done = _cli(["agent", "--count", str(count), sweep], env, timeout=timeout)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-4000:])
    return done


def _tiny_sweep(tmp_path: Path, name: str) -> Path:
    return sweep_file(
        tmp_path / f"{name}.yaml",
        zn=(8, 16),
        command=ACCELERATE,
        metric={"name": "eval/fd", "goal": "minimize"},
        params={
            "epochs": 2,
            "eval_every": 1,
            "eval_samples": 32,
            "out": str(tmp_path / "runs"),
            "wandb_project": "genlat",
        },
    )


def _sweep_runs(server, sweep_id: str):
    return [r for r in server.store.runs.values() if r.sweep == sweep_id]


def _check_trial(server, run, runs_root: Path) -> None:
    assert run.state == "finished", (run.name, run.state, run.exitcode)
    assert run.config["zn"] in (8, 16) and run.config["epochs"] == 2
    epochs = [row["epoch"] for row in run.history if "epoch/loss_g" in row]
    assert epochs == [1, 2], epochs  # each epoch once
    fds = [row["eval/fd"] for row in run.history if "eval/fd" in row]
    # define_metric(summary="min"): W&B's summary holds the sweep metric's best epoch, not its last
    assert len(fds) == 2 and run.summary["eval/fd"] == {"min": min(fds)}, run.summary.get("eval/fd")
    samples = [row["samples"] for row in run.history if isinstance(row.get("samples"), dict)]
    assert len(samples) == 2 and all(s["path"] in run.files for s in samples)  # the images were uploaded
    for key in ("epoch_series", "interpolation"):  # the final tables: their images live in their artifacts
        arts = [
            a
            for a in server.store.artifacts.values()
            if a.collection == f"run-{run.name}-{key}" and a.state == "COMMITTED"
        ]
        assert arts, f"no {key} table artifact for {run.name}"
        contents = artifacts.manifest(server.store, arts[-1])["contents"]
        assert any(name.endswith(".png") for name in contents), (key, sorted(contents)[:5])
    (folder,) = [p for p in runs_root.iterdir() if p.name.endswith(f"-{run.name}")]  # the folder is the W&B run's
    assert json.loads((folder / "config.json").read_text())["wandb_id"] == run.name


def test_wandb_sweep_then_agent_through_accelerate_launch(wandb_server, tmp_path):
    env = _online_env(wandb_server, tmp_path)
    sweep = create_sweep(wandb_server, _tiny_sweep(tmp_path, "first"), env)
    run_agent(wandb_server, sweep, count=2, env=env)
    sweep_id = sweep.rsplit("/", 1)[1]
    runs = _sweep_runs(wandb_server, sweep_id)
    assert sorted(r.config["zn"] for r in runs) == [8, 16]
    for run in runs:
        _check_trial(wandb_server, run, tmp_path / "runs")
    import wandb  # the sweep's state as a user reads it (the server settles it on its own clock, as W&B's does)

    assert wandb.Api(timeout=30).sweep(sweep).state == "FINISHED"


@pytest.mark.slow
def test_a_second_sweep_of_the_same_file_trains_its_own_trials(wandb_server, tmp_path):
    env = _online_env(wandb_server, tmp_path)
    path = _tiny_sweep(tmp_path, "same")
    first = create_sweep(wandb_server, path, env)
    run_agent(wandb_server, first, count=2, env=env)
    before = {p: p.read_bytes() for p in (tmp_path / "runs").rglob("*") if p.is_file() and "wandb" not in p.parts}
    second = create_sweep(wandb_server, path, env)
    run_agent(wandb_server, second, count=2, env=env)
    for sweep in (first, second):
        runs = _sweep_runs(wandb_server, sweep.rsplit("/", 1)[1])
        assert len(runs) == 2
        for run in runs:
            _check_trial(wandb_server, run, tmp_path / "runs")
    assert len(list((tmp_path / "runs").iterdir())) == 4
    after = {p: p.read_bytes() for p in before}
    assert after == before  # nothing of the first sweep changed


def _trial_processes(run_id: str):
    """train.py's processes the agent started for this W&B run (found by the WANDB_RUN_ID it was given)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if (
                any(a.endswith("train.py") for a in proc.info["cmdline"] or [])
                and proc.environ().get("WANDB_RUN_ID") == run_id
            ):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def _agent_past_epoch_1(server, sweep: str, env: dict, runs_root: Path):
    """`wandb agent --count 1` in the background, once its trial has checkpointed epoch 1: (agent, run)."""
    from tests.helpers import wait_for

    agent = subprocess.Popen(
        [WANDB, "agent", "--count", "1", sweep],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: list(runs_root.glob("*/checkpoints/epoch_001.pt")), 300, "the first checkpoint")
        (run,) = _sweep_runs(server, sweep.rsplit("/", 1)[1])
    except BaseException:
        agent.kill()
        raise
    return agent, run


@pytest.mark.slow
def test_a_trial_preempted_from_outside_is_requeued_and_resumed_under_its_id(wandb_server, tmp_path):
    """SIGTERM to the trial, as a cluster preempting it sends: genlat marks the W&B run preempting and
    exits 75; the server requeues it; a later agent resumes it from its checkpoint, each epoch once."""
    import signal

    env = _online_env(wandb_server, tmp_path)
    path = sweep_file(
        tmp_path / "preempt.yaml",
        zn=(8,),
        command=ACCELERATE,
        metric={"name": "eval/fd", "goal": "minimize"},
        params={
            "epochs": 3,
            "epoch_size": 1600,
            "eval_every": 1,
            "eval_samples": 32,
            "out": str(tmp_path / "runs"),
            "wandb_project": "genlat",
        },
    )
    sweep = create_sweep(wandb_server, path, env)
    sweep_id = sweep.rsplit("/", 1)[1]
    agent, run = _agent_past_epoch_1(wandb_server, sweep, env, tmp_path / "runs")
    try:
        procs = _trial_processes(run.name)
        assert procs, "the trial's train.py was not found"
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=120)
    finally:
        agent.kill()
    assert run.exitcode == 75 and run.state == "preempted", (run.state, run.exitcode, output[-3000:])
    run_agent(wandb_server, sweep, count=1, env=env)  # a later agent gets the same run again
    runs = _sweep_runs(wandb_server, sweep_id)
    assert [r.name for r in runs] == [run.name]
    assert run.state == "finished"
    epochs = [row["epoch"] for row in run.history if "epoch/loss_g" in row]
    assert epochs == [1, 2, 3], epochs
    (folder,) = (tmp_path / "runs").iterdir()
    assert [json.loads(line)["epoch"] for line in (folder / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]


@pytest.mark.slow
def test_an_offline_sweep_synced_then_reported_from_wandb(wandb_server, tmp_path):
    """`genlat sweep FILE` offline -> `genlat sweep --sync DIR` -> every trial on the server, each epoch
    once, under a group unique to that sweep -> `genlat report --wandb E/P --group G` gives the same
    claims table and the same Q3 panels as `genlat report DIR`."""
    from analysis.report import main as report_main
    from tests.helpers import sweep_state

    path = sweep_file(
        tmp_path / "offline.yaml",
        zn=(8, 16),
        metric={"name": "eval/fd", "goal": "minimize"},
        params={"epochs": 2, "eval_every": 1, "eval_samples": 32, "wandb_project": "synced"},
    )
    root = tmp_path / "sweep"
    done = subprocess.run(
        [sys.executable, "-m", "genlat", "sweep", str(path), "--dir", str(root)],
        cwd=ROOT,
        env=child_env(WANDB_MODE="offline"),
        text=True,
        capture_output=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not wandb_server.store.runs  # offline: nothing reached the server
    synced = subprocess.run(
        [sys.executable, "-m", "genlat", "sweep", "--sync", str(root)],
        cwd=ROOT,
        env=child_env(**wandb_server.env()),
        text=True,
        capture_output=True,
        timeout=600,
    )
    assert synced.returncode == 0, synced.stderr[-3000:]
    group = sweep_state(root)["group"]
    runs = [r for r in wandb_server.store.runs.values() if r.project == "synced"]
    assert len(runs) == 2 and {r.group for r in runs} == {group} and group.startswith("offline-")
    for run in runs:
        assert run.state == "finished", run.state
        assert [row["epoch"] for row in run.history if "epoch/loss_g" in row] == [1, 2]
    assert "synced 2 trial(s)" in synced.stdout + synced.stderr

    remote, local = tmp_path / "remote", tmp_path / "local"
    entity = wandb_server.store.entity
    assert report_main(["--wandb", f"{entity}/synced", "--group", group, "--out", str(remote)]) == 0
    assert report_main([str(root), "--out", str(local)]) == 0
    claims = lambda md: md.split("## The study's claims, tested")[1].split("\n## ")[0]  # noqa: E731
    assert claims((remote / "report.md").read_text()) == claims((local / "report.md").read_text())
    panels = lambda d: sorted(p.name for p in (d / "figures").glob("q3_interp_*.png"))  # noqa: E731
    assert panels(remote) == panels(local) and panels(remote)


@pytest.mark.slow
def test_a_stop_the_server_asks_for_ends_the_trial_for_good(wandb_server, tmp_path):
    """The UI's Stop (or hyperband): the server flags the run; the agent and the run's own stream
    learn it, genlat stops at the next step and exits; the server ends the run killed, never
    requeued, and a later agent gets no run of this grid again."""

    env = {**_online_env(wandb_server, tmp_path), "WANDB_X_FILE_STREAM_TRANSMIT_INTERVAL": "1"}
    path = sweep_file(
        tmp_path / "stop.yaml",
        zn=(8,),
        command=ACCELERATE,
        metric={"name": "eval/fd", "goal": "minimize"},
        params={
            "epochs": 4,
            "epoch_size": 1600,
            "eval_every": 0,
            "out": str(tmp_path / "runs"),
            "wandb_project": "genlat",
        },
    )
    sweep = create_sweep(wandb_server, path, env)
    sweep_id = sweep.rsplit("/", 1)[1]
    agent, run = _agent_past_epoch_1(wandb_server, sweep, env, tmp_path / "runs")
    try:
        with wandb_server.store.lock:
            run.stop_requested = True  # what the UI's Stop button does on W&B's server
        output, _ = agent.communicate(timeout=180)
    finally:
        agent.kill()
    assert run.exitcode == 75 and run.state == "killed", (run.state, run.exitcode, output[-3000:])
    (folder,) = (tmp_path / "runs").iterdir()
    assert len((folder / "metrics.jsonl").read_text().splitlines()) < 4  # it stopped early
    # nothing of this grid is handed out again: the sweep is done, and W&B refuses a new agent for it
    later = _cli(["agent", "--count", "1", sweep], env, timeout=120)
    assert "is not running" in later.stderr and "About to run command" not in later.stderr + later.stdout
    assert [r.name for r in _sweep_runs(wandb_server, sweep_id)] == [run.name] and run.state == "killed"
