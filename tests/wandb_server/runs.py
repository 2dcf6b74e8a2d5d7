"""Run logging: what wandb-core sends for a run. The viewer and the server's features, the upsert
of the run (create and resume), its resume status, the file stream (history, summary, system
metrics, console, exit, preemption; its answer carries the stop request) and the run's file
uploads. Shapes follow wandb-core's own GraphQL documents (`strings wandb/bin/wandb-core`)."""

from __future__ import annotations

import gzip
import json
import time

from tests.wandb_server.graphql import GraphQLError, operation
from tests.wandb_server.routes import route
from tests.wandb_server.store import ServerRun, Store


# --- the viewer and the server --------------------------------------------------------------------
@operation("Viewer")
def viewer(store: Store, variables, request):
    entity = store.entity
    return {
        "viewer": {
            "id": "user-1",
            "entity": entity,
            "username": entity,
            "email": f"{entity}@localhost",
            "admin": False,
            "flags": "{}",
            "teams": {"edges": []},
            "defaultFramework": None,
        }
    }


@operation("OrganizationCoreWeaveOrganizationID")
def coreweave_org(store: Store, variables, request):
    return {"entity": {"organization": None}}  # not a CoreWeave organization: no such storage


@operation("ServerFeaturesQuery")
def server_features(store: Store, variables, request):
    # Store.features: the names (wandb's ServerFeature enum) this server says it supports.
    return {"serverInfo": {"features": [{"name": n, "isEnabled": True} for n in sorted(store.features)]}}


# --- the run's record -----------------------------------------------------------------------------
def wrapped_config(run: ServerRun) -> str:
    """W&B serves config as {"key": {"value": v, "desc": null}}."""
    return json.dumps({k: {"value": v, "desc": None} for k, v in run.config.items()})


def bucket(store: Store, run: ServerRun) -> dict:
    """A run as W&B's GraphQL `Run` (`bucket` in the old names): every field the clients ask for."""
    settle(store, run)
    return {
        "id": run.storage_id,
        "name": run.name,
        "displayName": run.display_name or run.name,
        "description": run.notes,
        "notes": run.notes,
        "config": wrapped_config(run),
        "sweepName": run.sweep,
        "group": run.group,
        "jobType": run.job_type,
        "tags": list(run.tags),
        "state": run.state,
        "summaryMetrics": json.dumps(run.summary),
        "historyLineCount": len(run.history),
        "eventsLineCount": len(run.events),
        "logLineCount": len(run.output),
        "historyTail": json.dumps([json.dumps(h) for h in run.history[-10:]]),
        "eventsTail": json.dumps([json.dumps(e) for e in run.events[-10:]]),
        "wandbConfig": json.dumps({k: v for k, v in (run.config.get("_wandb") or {}).items() if k == "t"}),
        "project": {
            "id": f"project-{run.project}",
            "name": run.project,
            "entity": {"id": f"entity-{run.entity}", "name": run.entity},
        },
    }


def settle(store: Store, run: ServerRun, now: float | None = None) -> None:
    """What W&B's server decides of a run whose stream went silent (Store.silent_after_s): one that
    said it was being preempted is "preempted", a running one "crashed". Applied when a run is read."""
    if (now or time.time()) - run.heartbeat_at < store.silent_after_s:
        return
    if run.state == "preempting":
        run.state = "preempted"
    elif run.state == "running":
        run.state = "crashed"


@operation("UpsertBucket")
def upsert_bucket(store: Store, v, request):
    # the public API's Run.update() names the run by its storage id only
    by_id = next((r for r in store.runs.values() if v.get("id") and r.storage_id == v["id"]), None)
    if by_id is None and not v.get("name") and v.get("id"):
        raise GraphQLError(f"run {v['id']} not found")
    # no project: a sweep's run goes to its sweep's project (Store.sweeps, keyed entity, project, name)
    sweep_project = next((p for (_, p, s) in store.sweeps if s == v.get("sweep")), None)
    entity, project = v.get("entity") or store.entity, v.get("project") or sweep_project or "uncategorized"
    if by_id is not None:
        entity, project = by_id.entity, by_id.project
    name = by_id.name if by_id else v.get("name") or store.new_id("run")
    inserted = (entity, project, name) not in store.runs
    run = store.run(entity, project, name)
    if v.get("display_name") is not None:
        v = {**v, "displayName": v["display_name"]}
    run.upserts += 1
    if v.get("config") is not None:
        config = json.loads(v["config"])
        run.config.update({k: (c.get("value") if isinstance(c, dict) else c) for k, c in config.items()})
    if v.get("summaryMetrics"):
        run.summary.update(json.loads(v["summaryMetrics"]))
    for key, attr in (
        ("displayName", "display_name"),
        ("groupName", "group"),
        ("jobType", "job_type"),
        ("notes", "notes"),
        ("sweep", "sweep"),
    ):
        if v.get(key) is not None:
            setattr(run, attr, v[key])
    if v.get("description") is not None:
        run.notes = v["description"]
    if v.get("tags") is not None:
        run.tags = list(v["tags"])
    if v.get("state"):
        run.state = v["state"]
    return {"upsertBucket": {"bucket": bucket(store, run), "inserted": inserted}}


@operation("RunResumeStatus")
def resume_status(store: Store, v, request):
    entity, project = v.get("entity") or store.entity, v.get("project") or "uncategorized"
    run = store.runs.get((entity, project, v["name"]))
    return {
        "model": {
            "id": f"project-{project}",
            "name": project,
            "entity": {"id": f"entity-{entity}", "name": entity},
            "bucket": bucket(store, run) if run else None,
        }
    }


# --- the file stream ------------------------------------------------------------------------------
def _put_lines(lines: list, offset: int, content: list, parse) -> None:
    """Write `content` at line `offset`: a resent line replaces itself, so each line is stored once."""
    for i, text in enumerate(content):
        at = offset + i
        while len(lines) < at:
            lines.append(parse(None))
        value = parse(text)
        if at < len(lines):
            lines[at] = value
        else:
            lines.append(value)


@route("POST", r"^/files/[^/]+/[^/]+/[^/]+/file_stream$")
def file_stream(store: Store, path: str, body: bytes, request):
    _, _, entity, project, name, _ = path.split("/")
    if request.headers.get("Content-Encoding") == "gzip":  # only with FILESTREAM_GZIP in Store.features
        body = gzip.decompress(body)
    data = json.loads(body or b"{}")
    run = store.run(entity, project, name)
    run.heartbeat_at = time.time()
    if run.state != "preempting":  # an open stream is a running run, a resumed one too
        run.state = "running"
    for fname, chunk in (data.get("files") or {}).items():
        offset, content = chunk.get("offset", 0), chunk.get("content") or []
        if fname == "wandb-history.jsonl":
            _put_lines(run.history, offset, content, lambda t: json.loads(t) if t else {})
        elif fname == "wandb-events.jsonl":
            _put_lines(run.events, offset, content, lambda t: json.loads(t) if t else {})
        elif fname == "output.log":
            _put_lines(run.output, offset, content, lambda t: t or "")
        elif fname == "wandb-summary.json" and content:
            run.summary = json.loads(content[-1])  # the client sends the whole summary each time
    if data.get("preempting"):
        run.state = "preempting"
    if data.get("complete"):
        run.exitcode = data.get("exitcode")
        # W&B's end rule (controller.end_state's, for a run that did send its exit): a stop the server
        # asked for is "killed" whatever the client marked; exit 0 is finished even when marked
        # preempting; a non-zero exit after the mark is preempted (requeued), otherwise failed
        run.state = (
            "killed"
            if run.stop_requested
            else "finished"
            if not run.exitcode
            else "preempted"
            if run.state == "preempting"
            else "failed"
        )
    # `stopped` is how the server asks a run to stop (wandb-core reads it from every answer)
    return {"exitcode": None, "limits": {}, "stopped": run.stop_requested}
