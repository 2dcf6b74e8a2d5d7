"""The local W&B server's sweep side (tests/wandb_server/sweeps.py, controller.py) driven by the real,
unpatched client as subprocesses: `wandb sweep`, `wandb agent`, a tiny wandb program per run, and
`wandb.Api().sweep()`. The program is a stand-in for train.py: it reads its params from run.config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.helpers import child_env
from tests.wandb_server import sweeps

BIN = Path(sys.executable).parent  # the venv's bin: wandb, and the `python` the agent's ${interpreter} names
PROJECT = "sweep-tests"

# `wandb agent` waits Agent.POLL_INTERVAL (5 s) on an internal queue before every heartbeat; it is a
# class constant with no env var or setting (W&B's own agent tests patch the queue read out too).
# This is the unpatched CLI with that one constant lowered: 0.2 s a heartbeat instead of 5.
FAST_AGENT = ("import sys, wandb.wandb_agent as a; a.Agent.POLL_INTERVAL = 0.2; "
              "from wandb.cli.cli import cli; sys.argv[0] = 'wandb'; cli()")

# Run logging that reaches the server while the run runs (hyperband reads history mid-run): the
# file stream transmits every 15 s by default; wandb-core reads this setting as whole seconds
# (0.2 becomes 0, which means the default).
FAST_RUNS = {"WANDB_X_FILE_STREAM_TRANSMIT_INTERVAL": "1"}

PROGRAM = """\
import signal, sys, time
from pathlib import Path

import wandb

run = wandb.init()


def preempted(signum, frame):  # a preemptible script: mark the run preempting, exit non-zero
    run.mark_preempting()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, preempted)
a = run.config["a"]
attempt = Path(f"attempt-{run.id}")
first = not attempt.exists()
attempt.touch()
Path(f"args-{run.id}-{'first' if first else 'again'}.json").write_text(
    __import__("json").dumps({"argv": sys.argv[1:], "config": dict(run.config)}))
if a == "preempt" and first:  # the machine goes away: mark preempting, exit non-zero
    run.log({"loss": 1.0})
    run.mark_preempting()
    sys.exit(1)
for _ in range(300 if a == "slow" else 30):  # "slow": a bad run that would go on for a minute
    run.log({"loss": 10.0 if a == "slow" else 0.1})
    time.sleep(0.2 if a == "slow" else 0)
run.finish()
"""


def env(**extra: str) -> dict[str, str]:
    """The children's environment: the wandb_server fixture's (online, its URL and key), the venv's
    bin first on PATH (the agent runs `python`), and the agent's SIGTERM-to-SIGKILL delay short."""
    return child_env(PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", WANDB_AGENT_KILL_DELAY="5",
                     WANDB_SILENT="false", **FAST_RUNS, **extra)


def wandb_cli(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "wandb"), *args], cwd=tmp_path, env=env(), capture_output=True,
                          text=True, timeout=timeout)


def agent(tmp_path: Path, sweep_path: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-c", FAST_AGENT, "agent", *args, sweep_path], cwd=tmp_path,
                          env=env(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def new_sweep(server, tmp_path: Path, values: list, **config) -> sweeps.ServerSweep:
    """A sweep over a = values of PROGRAM, created as `wandb sweep` would (its UpsertSweep)."""
    (tmp_path / "prog.py").write_text(PROGRAM)
    config = {"program": "prog.py", "method": "grid", "metric": {"name": "loss", "goal": "minimize"},
              "parameters": {"a": {"values": values}}, **config}
    with server.store.lock:
        answer = sweeps.upsert_sweep(server.store, {"config": yaml.safe_dump(config), "projectName": PROJECT}, None)
    return server.store.sweeps[(server.store.entity, PROJECT, answer["upsertSweep"]["sweep"]["name"])]


def runs(server, sweep) -> dict:
    """The sweep's runs by their param a."""
    return {r.config["a"]: r for r in server.store.runs.values() if r.sweep == sweep.name}


def test_grid_sweep_by_the_cli(wandb_server, tmp_path):
    """`wandb sweep` of a 2-point grid, then `wandb agent --count 2`: both runs finished on the
    server with their rendered params, the sweep FINISHED, and wandb.Api().sweep() reads it back."""
    (tmp_path / "prog.py").write_text(PROGRAM)
    (tmp_path / "sweep.yaml").write_text(textwrap.dedent("""\
        name: tiny-grid
        program: prog.py
        method: grid
        metric: {name: loss, goal: minimize}
        parameters:
          a: {values: [1, 2]}
        """))
    created = wandb_cli(tmp_path, "sweep", "--project", PROJECT, "sweep.yaml")
    assert created.returncode == 0, created.stdout + created.stderr
    (sweep,) = wandb_server.store.sweeps.values()
    assert f"wandb agent {sweep.entity}/{PROJECT}/{sweep.name}" in created.stderr
    path = f"{sweep.entity}/{PROJECT}/{sweep.name}"

    agent(tmp_path, path, "--count", "2")

    by_a = runs(wandb_server, sweep)
    assert sorted(by_a) == [1, 2]
    for a, run in by_a.items():
        assert run.state == "finished" and run.exitcode == 0
        assert run.summary["loss"] == 0.1
        rendered = json.loads((tmp_path / f"args-{run.name}-first.json").read_text())
        assert rendered["argv"] == [f"--a={a}"] and rendered["config"]["a"] == a

    import wandb

    api_sweep = wandb.Api().sweep(path)
    assert api_sweep.name == "tiny-grid"
    assert api_sweep.state == "FINISHED"
    assert api_sweep.config["parameters"] == {"a": {"values": [1, 2]}}
    assert api_sweep.expected_run_count == 2
    assert sorted(r.config["a"] for r in api_sweep.runs) == [1, 2]
    assert api_sweep.best_run().name in {r.name for r in by_a.values()}


def test_hyperband_stop_ends_the_run_and_it_is_not_rerun(wandb_server, tmp_path):
    """Hyperband (min_iter 1, eta 3: bands at 1, 3, 9, 27 rows) stops the run whose loss is worse than
    the finished run's at its band (strict, W&B's default, compares the loss at the band): its agent
    is sent `stop` (SIGTERM); the program marks itself preempting and exits non-zero on it, yet the
    server asked, so the run ends killed and is never handed out again. The sweep then finishes."""
    sweep = new_sweep(wandb_server, tmp_path, [1, "slow"],
                      early_terminate={"type": "hyperband", "min_iter": 1, "eta": 3})
    agent(tmp_path, f"{sweep.entity}/{PROJECT}/{sweep.name}")  # no --count: it leaves on `exit`

    by_a = runs(wandb_server, sweep)
    assert by_a[1].state == "finished" and not by_a[1].stop_requested
    stopped = by_a["slow"]
    assert stopped.stop_requested and stopped.state == "killed"
    assert stopped.exitcode == 128 + 15  # its SIGTERM handler ran: mark_preempting(), then exit
    assert 1 <= len(stopped.history) < 300 and "loss" in stopped.history[-1]
    (server_agent,) = sweep.agents.values()
    assert server_agent.runs == [by_a[1].name, stopped.name]  # each handed out once
    assert {"type": "stop", "run_id": stopped.name} in server_agent.commands
    assert server_agent.commands[-1] == {"type": "exit"}
    assert not (tmp_path / f"args-{stopped.name}-again.json").exists()
    assert sweep.state == "FINISHED"


def test_preempted_run_is_requeued_to_a_later_agent(wandb_server, tmp_path):
    """A run that calls mark_preempting() and exits non-zero ends preempted and goes on the sweep's
    run queue: the next agent gets the same run id and args (`resume`) before any new grid point."""
    sweep = new_sweep(wandb_server, tmp_path, ["preempt", 2])
    path = f"{sweep.entity}/{PROJECT}/{sweep.name}"

    agent(tmp_path, path, "--count", "1")
    preempted = runs(wandb_server, sweep)["preempt"]
    assert preempted.state == "preempted" and preempted.exitcode == 1
    assert sweep.queue == [preempted.name] and sweep.state == "RUNNING"

    agent(tmp_path, path, "--count", "1")
    first, later = sweep.agents.values()
    assert first.runs == later.runs == [preempted.name]
    assert later.commands[0]["type"] == "resume" and later.commands[0]["args"] == {"a": {"value": "preempt"}}
    assert preempted.state == "finished" and preempted.exitcode == 0
    again = json.loads((tmp_path / f"args-{preempted.name}-again.json").read_text())
    assert again["argv"] == ["--a=preempt"] and again["config"]["a"] == "preempt"
    assert sorted(runs(wandb_server, sweep), key=str) == ["preempt"]  # the grid's second point still waits
    assert sweep.state == "RUNNING" and not sweep.queue
