"""Sweeps: `wandb sweep FILE` and its --stop/--cancel/--pause/--resume (UpsertSweep), `wandb agent`
(SweepWithRuns for the sweep's command, CreateAgent, then a Heartbeat every poll whose answer carries
run / resume / stop / exit commands) and `wandb.Api().sweep(path)` (GetSweep; its runs and best_run
are the public API's run queries, filtered by ServerRun.sweep). The decisions are controller.py's.
Shapes follow the client's own documents in wandb/apis/public/sweeps.py and _generated/operations.py."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import yaml

from tests.wandb_server import controller
from tests.wandb_server.graphql import GraphQLError, operation
from tests.wandb_server.store import ServerRun, Store


@dataclass
class ServerAgent:
    id: str
    sweep: tuple[str, str, str]  # the sweep's key
    host: str = ""
    running: list[str] = field(default_factory=list)  # what its last heartbeat said still runs, + a run just handed
    runs: list[str] = field(default_factory=list)  # every run id handed to it, in order
    commands: list[dict] = field(default_factory=list)  # every command its heartbeats were answered
    created_at: float = field(default_factory=time.time)
    heartbeat_at: float = field(default_factory=time.time)


@dataclass
class ServerSweep:
    entity: str
    project: str
    name: str  # the sweep id users see (8 characters)
    storage_id: str  # the opaque GraphQL id UpsertSweep's updates send back
    config_yaml: str
    state: str = "RUNNING"  # RUNNING, PAUSED, CANCELED, FINISHED (W&B's spelling)
    display_name: str | None = None
    description: str | None = None
    queue: list[str] = field(default_factory=list)  # preempted run ids waiting to be handed out again
    args: dict[str, dict] = field(default_factory=dict)  # run id -> the params it was handed ({"k": {"value": v}})
    agents: dict[str, ServerAgent] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.entity, self.project, self.name)

    @property
    def config(self) -> dict[str, Any]:
        return yaml.safe_load(self.config_yaml) or {}


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))  # W&B's GraphQL dates (UTC, no zone)


def _project(entity: str, project: str) -> dict:
    return {"id": f"project-{project}", "name": project, "entity": {"id": f"entity-{entity}", "name": entity}}


def find_sweep(store: Store, entity: str | None, project: str | None, name: str) -> ServerSweep | None:
    sweep = store.sweeps.get((entity or store.entity, project, name))
    if sweep is None:  # the agent may name the sweep without its project (wandb agent SWEEP_ID)
        sweep = next((s for s in store.sweeps.values() if s.name == name), None)
    return sweep


def _run_count_expected(config: dict) -> int | None:
    """A grid's size (W&B shows it as "x / N"); None for searches without an end."""
    if config.get("method") != "grid":
        return config.get("run_cap")

    def size(p: dict) -> int:
        if "values" in p:
            return len(p["values"])
        return p["max"] - p["min"] + 1 if isinstance(p.get("min"), int) else 1  # int_uniform: each integer

    return math.prod(size(p) for p in (config.get("parameters") or {}).values())


def _best_loss(store: Store, sweep: ServerSweep) -> float | None:
    metric = sweep.config.get("metric") or {}
    values = [
        r.summary[metric["name"]]
        for r in controller.runs_of(store, sweep)
        if metric.get("name") in r.summary and isinstance(r.summary[metric["name"]], (int, float))
    ]
    if not values:
        return None
    return max(values) if metric.get("goal") == "maximize" else min(values)


def _run_node(run: ServerRun) -> dict:
    """A sweep run as SweepWithRuns asks for it (the agent and the CLI read `config` and `state`)."""
    return {
        "name": run.name,
        "state": run.state,
        "exitcode": run.exitcode,
        "config": json.dumps({k: {"value": v} for k, v in run.config.items()}),
        "heartbeatAt": _when(run.heartbeat_at),
        "summaryMetrics": json.dumps(run.summary),
        "shouldStop": run.stop_requested,
        "stopped": run.stop_requested and run.state in controller.ENDED,
        "failed": run.state in ("failed", "crashed"),
        "running": run.state in ("running", "preempting"),
        "sampledHistory": [],
    }


def sweep_node(store: Store, sweep: ServerSweep, with_runs: bool = False) -> dict:
    controller.refresh(store, sweep)  # W&B's controller runs on its own clock, not only on heartbeats
    config = sweep.config
    node = {
        "__typename": "Sweep",
        "id": sweep.storage_id,
        "name": sweep.name,
        "displayName": sweep.display_name,
        "method": config.get("method"),
        "state": sweep.state,
        "description": sweep.description,
        "config": sweep.config_yaml,
        "createdAt": _when(sweep.created_at),
        "updatedAt": _when(sweep.updated_at),
        "heartbeatAt": _when(max([a.heartbeat_at for a in sweep.agents.values()], default=sweep.created_at)),
        "bestLoss": _best_loss(store, sweep),
        "earlyStopJobRunning": False,
        "controller": None,
        "scheduler": None,
        "runCount": len(controller.runs_of(store, sweep)),
        "runCountExpected": _run_count_expected(config),
    }
    if with_runs:
        node["runs"] = {"edges": [{"node": _run_node(r)} for r in controller.runs_of(store, sweep)]}
    return node


# --- wandb sweep ----------------------------------------------------------------------------------
@operation("UpsertSweep")
def upsert_sweep(store: Store, v: dict, request) -> dict:
    """Create a sweep (no id), or update one by its GraphQL id: a new config (`--update`) or a
    state (`--stop` FINISHED, `--cancel` CANCELED, `--pause` PAUSED, `--resume` RUNNING)."""
    warnings: list[str] = []
    if v.get("config"):
        try:  # W&B's own validation: warnings the CLI prints; a config it cannot read is refused
            warnings = controller.sweeps.schema_violations_from_proposed_config(yaml.safe_load(v["config"]) or {})
        except (ValueError, yaml.YAMLError) as e:
            raise GraphQLError(f"invalid sweep config: {e}") from e
    if v.get("id"):
        sweep = next((s for s in store.sweeps.values() if s.storage_id == v["id"]), None)
        if sweep is None:
            raise GraphQLError(f"sweep {v['id']} not found")
    else:
        entity, project = v.get("entityName") or store.entity, v.get("projectName") or "uncategorized"
        name = store.new_id("sw")  # 8 characters, like W&B's sweep ids
        sweep = ServerSweep(entity, project, name, storage_id=store.new_id("sweep-"), config_yaml="{}")
        store.sweeps[sweep.key] = sweep
    if v.get("config"):
        sweep.config_yaml = v["config"]
    if v.get("state"):
        sweep.state = v["state"].upper()
    for key, attr in (("displayName", "display_name"), ("description", "description")):
        if v.get(key) is not None:
            setattr(sweep, attr, v[key])
    if v.get("priorRunsFilters"):  # -R RUN_ID: earlier runs join the sweep; the search uses their results
        for clause in json.loads(v["priorRunsFilters"]).get("$or", []):
            run = store.runs.get((sweep.entity, sweep.project, clause.get("name")))
            if run is not None:
                run.sweep = sweep.name
    sweep.updated_at = time.time()
    return {
        "upsertSweep": {
            "sweep": {"name": sweep.name, "project": _project(sweep.entity, sweep.project)},
            "configValidationWarnings": warnings,
        }
    }


# --- reading a sweep: the agent (SweepWithRuns) and wandb.Api().sweep (GetSweep) ------------------
@operation("SweepWithRuns")
def sweep_with_runs(store: Store, v: dict, request) -> dict:
    sweep = find_sweep(store, v.get("entity"), v.get("project"), v["sweep"])
    if sweep is None:
        return {"project": None}
    return {"project": {**_project(sweep.entity, sweep.project), "sweep": sweep_node(store, sweep, with_runs=True)}}


@operation("GetSweep", "GetSweepLegacy")
def get_sweep(store: Store, v: dict, request) -> dict:
    sweep = find_sweep(store, v.get("entity"), v.get("project"), v["name"])
    return {
        "project": {
            **_project(v.get("entity") or store.entity, v.get("project")),
            "sweep": sweep and sweep_node(store, sweep),
        }
    }


# --- wandb agent ----------------------------------------------------------------------------------
@operation("CreateAgent")
def create_agent(store: Store, v: dict, request) -> dict:
    sweep = find_sweep(store, v.get("entityName"), v.get("projectName"), v["sweep"])
    if sweep is None:
        raise GraphQLError(f"sweep {v['sweep']} not found")
    controller.refresh(store, sweep)
    if sweep.state in ("FINISHED", "CANCELED"):
        raise GraphQLError(f"Sweep {sweep.name} is not running")  # W&B's refusal, word for word
    agent = ServerAgent(id=store.new_id("agent-"), sweep=sweep.key, host=v.get("host") or "")
    sweep.agents[agent.id] = store.agents[agent.id] = agent
    return {"createAgent": {"agent": {"id": agent.id}}}


@operation("Heartbeat")
def agent_heartbeat(store: Store, v: dict, request) -> dict:
    """runState: {run id: True} for each run the agent's processes still run. The answer's
    `commands` is a JSON list the agent executes in order."""
    agent = store.agents.get(v["id"])
    if agent is None:
        raise GraphQLError(f"agent {v['id']} not found")
    running = [rid for rid, alive in json.loads(v.get("runState") or "{}").items() if alive]
    try:
        commands = controller.heartbeat(store, store.sweeps[agent.sweep], agent, running)
    except Exception as e:  # noqa: BLE001  (the agent would log it and poll forever: fail the test instead)
        store.unknown.append(f"Heartbeat: the controller failed: {e!r}")
        commands = [{"type": "exit"}]
    agent.commands += commands
    return {"agentHeartbeat": {"agent": {"id": agent.id}, "commands": json.dumps(commands)}}
