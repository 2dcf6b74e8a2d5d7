"""The online path, emulated offline: wandb's own agent code renders the sweep's command and sets the
run's environment; train.py (every rank of it) must take its settings from argv and its W&B id from
WANDB_RUN_ID. And `genlat sweep` renders a trial's command exactly as that agent does."""

import json
import os
import sys
from pathlib import Path

import pytest
import wandb.wandb_agent as wandb_agent

from genlat.sweep.command import render
from tests.helpers import ROOT, TINY_PARAMS, only_run

ACCELERATE_2_RANKS = ["${env}", "accelerate", "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                      "--mixed_precision", "no", "--dynamo_backend", "no", "${program}", "${args_no_boolean_flags}"]  # fmt: skip


@pytest.fixture
def agent(monkeypatch, tmp_path):
    """wandb's real Agent class, fed one run by hand instead of by a server."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # an activated venv
    for key in ("WANDB_RUN_ID", "WANDB_SWEEP_ID", "WANDB_SWEEP_PARAM_PATH"):  # the agent sets them; undo after
        monkeypatch.setenv(key, "unset")
    monkeypatch.setenv("WANDB_SWEEP_ID", "swp12345")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "agent-wandb"))

    def start(command, params, run_id="run12345"):
        a = wandb_agent.Agent(api=None, queue=None, sweep_id="swp12345")
        a._sweep_command = command
        a._command_run({"run_id": run_id, "program": "train.py", "args": {k: {"value": v} for k, v in params.items()}})
        return a._run_processes[run_id]

    return start


COMMANDS = {
    "default": None,
    "accelerate": ["${env}", "accelerate", "launch", "${program}", "${args_no_boolean_flags}"],
    "args": ["${env}", "${interpreter}", "${program}", "${args}", "--extra"],
    "json and hydra": ["${interpreter}", "${program}", "${args_json}", "${args_no_hyphens}", "${args_override_hydra}"],
    "envvar": ["${env}", "${interpreter}", "${program}", "--data_dir=${envvar:GENLAT_TEST_DATA}", "${args_no_equals}"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_render_matches_the_wandb_agent(name, agent, monkeypatch):
    captured = {}

    class Capture:
        def __init__(self, command=None, env=None, **kwargs):
            captured.update(command=command, env=env)

    monkeypatch.setattr(wandb_agent, "AgentProcess", Capture)
    monkeypatch.setenv("GENLAT_TEST_DATA", "/data/x")
    params = {"zn": 50, "lr": 0.0002, "cpu": True, "resume": False, "dataset": "shapes"}
    command = COMMANDS[name]
    agent(list(command) if command else None, params)
    assert render(command, "train.py", params) == captured["command"]
    assert captured["env"]["WANDB_RUN_ID"] == "run12345" and captured["env"]["WANDB_SWEEP_ID"] == "swp12345"


def _finish(proc, timeout):
    import time

    deadline = time.monotonic() + timeout
    while proc.poll() is None:  # AgentProcess: poll() is None while running
        assert time.monotonic() < deadline, "the agent's run did not finish"
        time.sleep(0.2)


def _check_run(out: Path, world_size: int):
    run = only_run(out)
    config = json.loads((run / "config.json").read_text())
    assert config["wandb_id"] == "run12345"  # WANDB_RUN_ID honoured
    assert config["zn"] == 16 and config["lr"] == 0.0003 and config["cpu"] is True  # argv honoured, booleans too
    assert config["world_size"] == world_size
    (offline,) = (run / "wandb").glob("offline-run-*")  # one W&B run, from rank 0 only
    assert offline.name.endswith("-run12345")
    assert b"swp12345" in next(offline.glob("run-*.wandb")).read_bytes()  # the run knows its sweep
    assert json.loads((run / "status.json").read_text())["state"] == "finished"


def test_agent_starts_train_py(agent, tmp_path):
    params = {**TINY_PARAMS, "zn": 16, "lr": 0.0003, "cpu": True, "out": str(tmp_path / "runs")}
    proc = agent(["${env}", "${interpreter}", "${program}", "${args}"], params)
    _finish(proc, 120)
    _check_run(tmp_path / "runs", world_size=1)


@pytest.mark.slow
def test_agent_starts_two_ranks_through_accelerate(agent, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_CPU", "true")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    params = {**TINY_PARAMS, "zn": 16, "lr": 0.0003, "cpu": True, "out": str(tmp_path / "runs")}
    proc = agent(list(ACCELERATE_2_RANKS), params)
    _finish(proc, 240)
    # rank 1 built its nets from the same argv, or DDP's shape check across ranks would have failed
    _check_run(tmp_path / "runs", world_size=2)
