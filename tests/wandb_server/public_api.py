"""What `wandb.Api()` reads (through wandb-core, which forwards its GraphQL): the default entity,
runs (filtered and ordered the way W&B's server does, MongoDB-style), one run, its history (full,
sampled, paged: wandb-core's history scan asks for parquet exports first and gets none, so it reads
live pages), its files. Artifacts read back are in artifacts.py."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from typing import Any

from tests.wandb_server.files import file_url
from tests.wandb_server.graphql import operation
from tests.wandb_server.runs import bucket
from tests.wandb_server.store import ServerRun, Store


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def page(items: list, first: int | None, after: str | None) -> tuple[list[tuple[str, Any]], dict]:
    """A cursor page: cursors are positions, as strings."""
    start = int(after) + 1 if after else 0
    first = len(items) if first is None else first
    chosen = list(enumerate(items))[start : start + first]
    info = {
        "__typename": "PageInfo",
        "endCursor": str(chosen[-1][0]) if chosen else after,
        "hasNextPage": start + first < len(items),
    }
    return [(str(i), item) for i, item in chosen], info


def project_runs(store: Store, entity: str | None, project: str) -> list[ServerRun]:
    entity = entity or store.entity
    return [r for (e, p, _), r in store.runs.items() if (e, p) == (entity, project)]


def run_node(store: Store, run: ServerRun) -> dict:
    """The public API's `Run`: the upsert's fields and the RunFragment's."""
    node = bucket(store, run)
    node.update(
        {
            "projectId": "1",
            "commit": None,
            "readOnly": False,
            "createdAt": iso(run.created_at),
            "heartbeatAt": iso(run.heartbeat_at),
            "systemMetrics": json.dumps(run.events[-1] if run.events else {}),
            "user": {"name": store.entity, "username": store.entity},
            "historyKeys": history_keys(run),
            "fileCount": len(run.files),
        }
    )
    return node


def history_keys(run: ServerRun) -> dict:
    keys: dict[str, dict] = {}
    for row in run.history:
        for k, v in row.items():
            kind = v.get("_type", "object") if isinstance(v, dict) else type(v).__name__
            counts = keys.setdefault(k, {"typeCounts": {}})["typeCounts"]
            counts[kind] = counts.get(kind, 0) + 1
    steps = [row.get("_step", i) for i, row in enumerate(run.history)]
    return {
        "lastStep": max(steps) if steps else -1,
        "keys": {
            k: {"typeCounts": [{"type": t, "count": n} for t, n in v["typeCounts"].items()]} for k, v in keys.items()
        },
    }


# --- filters and order, as W&B's server reads them ----------------------------------------------------
def _field(run: ServerRun, path: str) -> tuple[bool, Any]:
    """(present, value) of a filter path: config.X[.value], summary_metrics.X, or a run attribute."""
    head, _, rest = path.partition(".")
    if head == "config":
        rest = rest[: -len(".value")] if rest.endswith(".value") else rest
        return _dig(run.config, rest)
    if head in ("summary_metrics", "summaryMetrics", "summary"):
        return _dig(run.summary, rest)
    attrs = {
        "state": run.state,
        "group": run.group,
        "jobType": run.job_type,
        "job_type": run.job_type,
        "sweep": run.sweep,
        "sweepName": run.sweep,
        "tags": run.tags,
        "name": run.name,
        "displayName": run.display_name or run.name,
        "display_name": run.display_name or run.name,
        "created_at": iso(run.created_at),
        "createdAt": iso(run.created_at),
    }
    return (path in attrs, attrs.get(path))


def _dig(d: dict, dotted: str) -> tuple[bool, Any]:
    if dotted in d:
        return True, d[dotted]
    for part in dotted.split("."):
        if not isinstance(d, dict) or part not in d:
            return False, None
        d = d[part]
    return True, d


def _test(present: bool, value: Any, cond: Any) -> bool:
    if not (isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond)):
        cond = {"$eq": cond}
    for op, arg in cond.items():
        values = value if isinstance(value, list) else [value]  # arrays match by element, as in MongoDB
        if op == "$eq":
            ok = value == arg or arg in values
        elif op == "$ne":
            ok = not (value == arg or arg in values)
        elif op == "$in":
            ok = any(v in arg for v in values)
        elif op == "$nin":
            ok = not any(v in arg for v in values)
        elif op == "$exists":
            ok = present == bool(arg)
        elif op == "$regex":
            ok = any(isinstance(v, str) and re.search(arg, v) for v in values)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            try:
                ok = {"$gt": value > arg, "$gte": value >= arg, "$lt": value < arg, "$lte": value <= arg}[op]
            except TypeError:
                ok = False
        else:
            raise ValueError(f"local W&B server: filter operator {op} not implemented")
        if not ok:
            return False
    return True


def matches(run: ServerRun, flt: dict) -> bool:
    for key, cond in flt.items():
        if key == "$and":
            ok = all(matches(run, f) for f in cond)
        elif key == "$or":
            ok = any(matches(run, f) for f in cond)
        elif key == "$nor":
            ok = not any(matches(run, f) for f in cond)
        else:
            ok = _test(*_field(run, key), cond)
        if not ok:
            return False
    return True


def ordered(runs: list[ServerRun], order: str | None) -> list[ServerRun]:
    order = order or "-created_at"
    desc, key = order.startswith("-"), order.lstrip("+-")
    if key in ("created_at", "createdAt"):
        return sorted(runs, key=lambda r: (r.created_at, r.storage_id), reverse=desc)
    present = [r for r in runs if _field(r, key)[0]]
    rest = [r for r in runs if not _field(r, key)[0]]
    return sorted(present, key=lambda r: _field(r, key)[1], reverse=desc) + rest


# --- operations -------------------------------------------------------------------------------------
@operation("GetDefaultEntity")
def default_entity(store: Store, v, request):
    return {"viewer": {"id": "user-1", "entity": store.entity}}


@operation("Runs")
def runs(store: Store, v, request):
    flt = json.loads(v["filters"]) if isinstance(v.get("filters"), str) else (v.get("filters") or {})
    chosen = ordered([r for r in project_runs(store, v.get("entity"), v["project"]) if matches(r, flt)], v.get("order"))
    edges, info = page(chosen, v.get("perPage", 50), v.get("cursor"))
    return {
        "project": {
            "internalId": "1",
            "runCount": len(chosen),
            "readOnly": False,
            "runs": {"edges": [{"node": run_node(store, r), "cursor": c} for c, r in edges], "pageInfo": info},
        }
    }


def _the_run(store: Store, v) -> ServerRun | None:
    entity, project = v.get("entity") or v.get("entityName") or store.entity, v.get("project") or v.get("projectName")
    name = v.get("name") or v.get("run") or v.get("runName") or v.get("runId")
    return store.runs.get((entity, project, name))


def _project_with_run(store: Store, v, **fields) -> dict:
    run = _the_run(store, v)
    if run is None:
        return {"project": None if not project_runs(store, v.get("entity"), v.get("project") or "") else {"run": None}}
    node = run_node(store, run)
    node.update({k: f(run) for k, f in fields.items()})
    return {"project": {"internalId": "1", "run": node}}


@operation("Run", "RunState", "RunHistoryKeys", "QueryRunInfo")
def one_run(store: Store, v, request):
    # RunState: both the public API's ($project/$entity/$name) and wandb-core's ($entity/$project/$run)
    return _project_with_run(store, v)


@operation("RunFullHistory")
def full_history(store: Store, v, request):
    n = v.get("samples") or 500
    return _project_with_run(
        store,
        v,
        history=lambda r: [json.dumps(h) for h in r.history[:n]],
        events=lambda r: [json.dumps(e) for e in r.events[:n]],
    )


def _sampled(run: ServerRun, spec: dict) -> list[dict]:
    """Rows holding every requested key (W&B drops the others), within the spec's step range."""
    keys = spec.get("keys") or []
    lo, hi = spec.get("minStep", float("-inf")), spec.get("maxStep", float("inf"))
    rows = [
        {k: row[k] for k in keys if k in row}
        for row in run.history
        if all(k in row for k in keys) and lo <= row.get("_step", 0) <= hi
    ]
    return rows[: spec.get("samples") or len(rows)]


@operation("RunSampledHistory", "SampledHistoryPage")
def sampled_history(store: Store, v, request):
    specs = [json.loads(s) for s in (v.get("specs") or [v.get("spec")])]
    return _project_with_run(store, v, sampledHistory=lambda r: [_sampled(r, s) for s in specs])


@operation("RunParquetHistory")
def parquet_history(store: Store, v, request):
    # no parquet exports and no live-step boundary: wandb-core then reads every page with HistoryPage
    return _project_with_run(store, v, parquetHistory=lambda r: {"parquetUrls": [], "liveData": []})


@operation("HistoryPage")
def history_page(store: Store, v, request):
    lo, hi, n = v["minStep"], v["maxStep"], v.get("pageSize") or 1000

    def rows(r: ServerRun) -> list[str]:
        return [json.dumps(h) for h in r.history if lo <= h.get("_step", 0) < hi][:n]

    return _project_with_run(store, v, history=rows)


def _like(pattern: str) -> re.Pattern:
    """MySQL LIKE, which the public API's `pattern` is."""
    return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern) + r"\Z")


@operation("RunFiles")
def run_files(store: Store, v, request):
    def files(r: ServerRun) -> dict:
        names = sorted(n for n in r.files if r.files[n] in store.blobs)
        if v.get("fileNames"):
            names = [n for n in names if n in v["fileNames"]]
        if v.get("pattern"):
            names = [n for n in names if _like(v["pattern"]).match(n)]
        edges, info = page(names, v.get("fileLimit", 50), v.get("fileCursor"))
        return {"edges": [{"cursor": c, "node": file_node(store, r, n)} for c, n in edges], "pageInfo": info}

    return _project_with_run(store, v, files=files)


def file_node(store: Store, run: ServerRun, name: str) -> dict:
    data = store.blobs[run.files[name]]
    url = file_url(store, run.files[name])
    return {
        "id": f"file-{run.storage_id}-{name}",
        "name": name,
        "url": url,
        "directUrl": url,
        "sizeBytes": len(data),
        "mimetype": "application/octet-stream",
        "updatedAt": iso(run.heartbeat_at),
        "md5": base64.b64encode(hashlib.md5(data).digest()).decode(),
    }
