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
FAST_AGENT = (
    "import sys, wandb.wandb_agent as a; a.Agent.POLL_INTERVAL = 0.2; "
    "from wandb.cli.cli import cli; sys.argv[0] = 'wandb'; cli()"
)

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
    return child_env(
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
        WANDB_AGENT_KILL_DELAY="5",
        WANDB_SILENT="false",
        **FAST_RUNS,
        **extra,
    )


def wandb_cli(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "wandb"), *args], cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=timeout
    )


def agent(
    tmp_path: Path, sweep_path: str, *args: str, fast: bool = True, timeout: float = 90
) -> subprocess.CompletedProcess:
    """`wandb agent [ARGS] SWEEP_PATH`, with the short poll (FAST_AGENT) unless fast=False."""
    cli = [sys.executable, "-c", FAST_AGENT] if fast else [str(BIN / "wandb")]
    done = subprocess.run(
        [*cli, "agent", *args, sweep_path], cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def new_sweep(server, tmp_path: Path, values: list, prior_runs: tuple[str, ...] = (), **config) -> sweeps.ServerSweep:
    """A sweep over a = values of PROGRAM, created as `wandb sweep [-R RUN_ID ...]` would (its UpsertSweep)."""
    (tmp_path / "prog.py").write_text(PROGRAM)
    config = {
        "program": "prog.py",
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"a": {"values": values}},
        **config,
    }
    prior = json.dumps({"$or": [{"name": r} for r in prior_runs]}) if prior_runs else None
    with server.store.lock:
        answer = sweeps.upsert_sweep(
            server.store, {"config": yaml.safe_dump(config), "projectName": PROJECT, "priorRunsFilters": prior}, None
        )
    return server.store.sweeps[(server.store.entity, PROJECT, answer["upsertSweep"]["sweep"]["name"])]


def runs(server, sweep) -> dict:
    """The sweep's runs by their param a."""
    return {r.config["a"]: r for r in server.store.runs.values() if r.sweep == sweep.name}


@pytest.mark.slow  # 30-45 s here: the stock agent's 5 s polls, two wandb runs, wandb.Api() in this process
def test_grid_sweep_by_the_cli(wandb_server, tmp_path):
    """`wandb sweep` of a 2-point grid, then the stock `wandb agent --count 2` (its own 5 s poll):
    both runs finished on the server with their rendered params, the sweep FINISHED (the agent
    stops at its count without asking again: the server's controller finishes it), and
    wandb.Api().sweep() reads it back."""
    (tmp_path / "prog.py").write_text(PROGRAM)
    (tmp_path / "sweep.yaml").write_text(
        textwrap.dedent("""\
        name: tiny-grid
        program: prog.py
        method: grid
        metric: {name: loss, goal: minimize}
        parameters:
          a: {values: [1, 2]}
        """)
    )
    created = wandb_cli(tmp_path, "sweep", "--project", PROJECT, "sweep.yaml")
    assert created.returncode == 0, created.stdout + created.stderr
    (sweep,) = wandb_server.store.sweeps.values()
    assert f"wandb agent {sweep.entity}/{PROJECT}/{sweep.name}" in created.stderr
    path = f"{sweep.entity}/{PROJECT}/{sweep.name}"

    agent(tmp_path, path, "--count", "2", fast=False)

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
    """Hyperband (min_iter 1, eta 3: bands at 1, 3, 9, 27, ... rows; strict, W&B's default, compares the
    loss at the band) stops the sweep's run that does worse than an earlier finished run the sweep
    was given (`wandb sweep -R`): its agent is sent `stop` (SIGTERM); the program marks itself
    preempting and exits non-zero on it, yet the server asked, so the run ends killed and is never
    handed out again. The sweep then finishes, and wandb.Api() reads it back, best run first."""
    with wandb_server.store.lock:  # a run logged earlier: 300 rows of loss 0.1 (a value at every band)
        prior = wandb_server.store.run("", PROJECT, "prior001")
        prior.config, prior.state, prior.exitcode = {"a": 1}, "finished", 0
        prior.history, prior.summary = [{"loss": 0.1, "_step": i} for i in range(300)], {"loss": 0.1}
    sweep = new_sweep(
        wandb_server,
        tmp_path,
        ["slow"],
        prior_runs=("prior001",),
        early_terminate={"type": "hyperband", "min_iter": 1, "eta": 3},
    )
    path = f"{sweep.entity}/{PROJECT}/{sweep.name}"
    agent(tmp_path, path)  # no --count: it leaves on `exit`

    stopped = runs(wandb_server, sweep)["slow"]
    assert stopped.stop_requested and stopped.state == "killed"
    assert stopped.exitcode == 128 + 15  # its SIGTERM handler ran: mark_preempting(), then exit
    assert 1 <= len(stopped.history) < 300 and "loss" in stopped.history[-1]
    (server_agent,) = sweep.agents.values()
    assert server_agent.runs == [stopped.name]  # handed out once
    assert {"type": "stop", "run_id": stopped.name} in server_agent.commands
    assert server_agent.commands[-1] == {"type": "exit"}
    assert not (tmp_path / f"args-{stopped.name}-again.json").exists()
    assert sweep.state == "FINISHED" and not prior.stop_requested

    import wandb

    api_sweep = wandb.Api().sweep(path)
    assert (api_sweep.state, api_sweep.expected_run_count) == ("FINISHED", 1)
    assert api_sweep.name == sweep.name and api_sweep.config["early_terminate"]["eta"] == 3  # no name: its id
    assert {r.name: r.state for r in api_sweep.runs} == {"prior001": "finished", stopped.name: "killed"}
    assert api_sweep.best_run().name == "prior001"  # by the sweep's metric, loss minimized


@pytest.mark.slow  # 12-28 s here: two agents, two wandb runs (its fast twin: test_preempted_runs_are_requeued_first...)
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


# --- the controller's answers, heartbeat by heartbeat (no client: what the server decides) --------
class Sweep:
    """One sweep on a bare Store, driven through the registered GraphQL handlers by operation name,
    with the run-logging side played by hand (what runs.py records from a run's file stream)."""

    def __init__(self, **config):
        from tests.wandb_server.store import Store

        self.store = Store()
        config = {"program": "prog.py", "method": "grid", "metric": {"name": "loss", "goal": "minimize"}, **config}
        created = self.op("UpsertSweep", config=yaml.safe_dump(config), projectName=PROJECT)
        name = created["upsertSweep"]["sweep"]["name"]
        self.sweep = self.store.sweeps[(self.store.entity, PROJECT, name)]

    def op(self, operation: str, **variables):
        from tests.wandb_server import graphql

        status, answer = graphql.execute(self.store, {"operationName": operation, "variables": variables}, None)
        assert status == 200 and not self.store.unknown
        if "errors" in answer:
            raise RuntimeError(answer["errors"][0]["message"])
        return answer["data"]

    def agent(self) -> str:
        created = self.op("CreateAgent", host="h", projectName=PROJECT, sweep=self.sweep.name)
        return created["createAgent"]["agent"]["id"]

    def beat(self, agent: str, *running: str) -> list[dict]:
        answer = self.op("Heartbeat", id=agent, metrics="{}", runState=json.dumps({r: True for r in running}))
        return json.loads(answer["agentHeartbeat"]["commands"])

    def run(self, run_id: str):
        return self.store.runs[(self.store.entity, PROJECT, run_id)]

    def end(self, run_id: str, exitcode: int | None, preempting: bool = False, **history_and_summary):
        """What the run's file stream reports at its end (runs.py's rule: preempting then complete)."""
        run = self.run(run_id)
        run.state = "preempted" if preempting else ("finished" if exitcode == 0 else "failed")
        run.exitcode = exitcode
        run.summary.update(history_and_summary)


def test_grid_heartbeats_one_run_per_agent_then_exit():
    s = Sweep(parameters={"a": {"values": [1, 2]}, "b": {"value": "x"}})
    agent = s.agent()
    (first,) = s.beat(agent)
    assert first["type"] == "run" and first["program"] == "prog.py"
    assert first["args"] == {"a": {"value": 1}, "b": {"value": "x"}}
    run = s.run(first["run_id"])
    assert run.sweep == s.sweep.name and run.config == {"a": 1, "b": "x"} and run.state == "pending"
    assert s.beat(agent, run.name) == []  # still running: no second run for this agent
    s.end(run.name, 0, loss=0.3)
    (second,) = s.beat(agent)
    assert second["args"]["a"] == {"value": 2}
    assert s.beat(s.agent()) == []  # another agent: nothing left to start, a run still runs
    s.end(second["run_id"], 0, loss=0.2)
    assert s.beat(agent) == [{"type": "exit"}] and s.sweep.state == "FINISHED"
    read = s.op("GetSweep", name=s.sweep.name, project=PROJECT, entity=s.store.entity)["project"]["sweep"]
    assert (read["state"], read["runCount"], read["runCountExpected"], read["bestLoss"]) == ("FINISHED", 2, 2, 0.2)
    with pytest.raises(RuntimeError, match="is not running"):
        s.agent()


def test_preempted_runs_are_requeued_first_and_a_stopped_run_never():
    """Four runs end four ways; only the preempted ones are handed out again, oldest first."""
    s = Sweep(parameters={"a": {"values": [1, 2, 3, 4]}})
    agents = [s.agent() for _ in range(4)]
    r1, r2, r3, r4 = (s.beat(a)[0] for a in agents)
    s.end(r1["run_id"], 1, preempting=True)  # mark_preempting(), then a non-zero exit: preempted
    s.end(r2["run_id"], 0, preempting=True)  # marked, but it finished: finished
    s.run(r3["run_id"]).stop_requested = True  # the server asks r3 to stop ...
    assert s.beat(agents[2], r3["run_id"]) == [{"type": "stop", "run_id": r3["run_id"]}]
    s.end(r3["run_id"], 143, preempting=True)  # ... and its SIGTERM handler marks it preempting
    s.run(r4["run_id"]).state = "preempting"  # marked, then its process vanished without an exit code
    (again,) = s.beat(agents[3])  # r4's agent no longer reports it
    assert again == {**r1, "type": "resume"}  # same run id and args
    assert [s.run(r["run_id"]).state for r in (r2, r3, r4)] == ["finished", "killed", "preempted"]
    (again4,) = s.beat(agents[0])
    assert again4 == {**r4, "type": "resume"}
    s.end(r1["run_id"], 0)
    s.end(r4["run_id"], 0)
    assert s.beat(agents[0]) == [{"type": "exit"}] and s.sweep.state == "FINISHED"


def test_hyperband_stop_reaches_the_agent_and_the_run():
    s = Sweep(parameters={"a": {"values": [1, 2]}}, early_terminate={"type": "hyperband", "min_iter": 1, "eta": 3})
    good, bad = s.agent(), s.agent()
    (g,) = s.beat(good)
    (b,) = s.beat(bad)
    s.run(g["run_id"]).history = [{"loss": 0.1}] * 3
    s.end(g["run_id"], 0)
    s.run(b["run_id"]).state = "running"
    s.run(b["run_id"]).history = [{"loss": 5.0}]
    assert s.beat(bad, b["run_id"]) == [{"type": "stop", "run_id": b["run_id"]}]
    assert s.run(b["run_id"]).stop_requested  # the file stream's answer says stopped too (runs.py)
    assert s.beat(bad, b["run_id"]) == [{"type": "stop", "run_id": b["run_id"]}]  # again until it ends
    assert s.beat(bad) == [{"type": "exit"}]  # its process is gone: killed, the grid is done
    assert s.run(b["run_id"]).state == "killed" and s.sweep.state == "FINISHED"


def test_pause_stop_and_cancel():
    s = Sweep(parameters={"a": {"values": [1, 2, 3]}})
    agent, idle = s.agent(), s.agent()
    (cmd,) = s.beat(agent)

    def update(state):  # what `wandb sweep --pause/--resume/--stop/--cancel` sends
        s.op("UpsertSweep", id=s.sweep.storage_id, state=state, entityName=s.store.entity, projectName=PROJECT)

    update("PAUSED")
    assert s.beat(idle) == [] and s.beat(agent, cmd["run_id"]) == []  # no new runs; the run goes on
    update("RUNNING")
    assert s.beat(idle)[0]["type"] == "run"
    update("FINISHED")  # wandb sweep --stop: no new runs, running ones finish
    assert s.beat(agent, cmd["run_id"]) == []  # its run goes on
    s.end(cmd["run_id"], 0)
    assert s.beat(agent) == [{"type": "exit"}]
    update("CANCELED")  # wandb sweep --cancel: exit at once (the agent kills its runs)
    assert s.beat(idle, "any") == [{"type": "exit"}]


@pytest.mark.filterwarnings("ignore:The optimal value found")  # bayes' GP fit on three points
@pytest.mark.parametrize("method", ["random", "bayes"])
def test_random_and_bayes_suggest_from_the_space(method):
    s = Sweep(method=method, parameters={"lr": {"min": 0.001, "max": 0.1}, "zn": {"values": [50, 100]}})
    agent = s.agent()
    for _ in range(3):
        (cmd,) = s.beat(agent)
        args = {k: v["value"] for k, v in cmd["args"].items()}
        assert 0.001 <= args["lr"] <= 0.1 and args["zn"] in (50, 100) and type(args["lr"]) is float
        s.end(cmd["run_id"], 0, loss=args["lr"])
    assert s.sweep.state == "RUNNING"  # no end to the search


def test_cancel_by_the_cli_then_no_agent(wandb_server, tmp_path):
    """`wandb sweep --cancel PATH` (SweepWithRuns, then UpsertSweep with the sweep's GraphQL id and a
    state) cancels it, and a later `wandb agent` is refused at CreateAgent, as W&B refuses it."""
    sweep = new_sweep(wandb_server, tmp_path, [1])
    path = f"{sweep.entity}/{PROJECT}/{sweep.name}"
    cancel = wandb_cli(tmp_path, "sweep", "--cancel", path)
    assert cancel.returncode == 0, cancel.stdout + cancel.stderr
    assert sweep.state == "CANCELED"
    refused = subprocess.run(
        [sys.executable, "-c", FAST_AGENT, "agent", path],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and f"Sweep {sweep.name} is not running" in refused.stdout + refused.stderr
    assert not sweep.agents and not runs(wandb_server, sweep)
