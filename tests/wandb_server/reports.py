"""Reports: what wandb-workspaces' `Report.save()` sends (views) and what it reads back.

`save()` lists the entity's projects (GetProjects) and creates the project when it is missing
(CreateProject), looks up each run set's project (ProjectInternalId: a missing one is refused by the
client), then sends the report as one `upsertView` whose `spec` is a JSON string. `Report.from_url`
reads a view back (SpecificReport). A project exists once a run was logged to it or it was created.
Views are kept in `store.views` by id: {"id", "name", "type", "entity", "project", "displayName",
"description", "spec" (the JSON string as sent), "createdAt", "updatedAt"}."""

from __future__ import annotations

import base64
import time

from tests.wandb_server.graphql import GraphQLError, operation


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


def _projects(store) -> set[tuple[str, str]]:
    """(entity, project) of every project: those with runs, and those CreateProject made."""
    created = store.__dict__.setdefault("created_projects", set())  # Store has no project table of its own
    return created | {(e, p) for e, p, _ in store.runs}


def _project_id(entity: str, project: str) -> str:
    return base64.b64encode(f"Project:{entity}/{project}".encode()).decode()


def _project(entity: str, project: str) -> dict:
    return {
        "__typename": "Project",
        "id": _project_id(entity, project),
        "name": project,
        "entityName": entity,
        "createdAt": _now(),
        "isBenchmark": False,
        "user": None,
        "description": None,
        "access": None,
        "views": None,
        "internalId": f"{entity}/{project}",
    }


@operation("GetProjects")
def get_projects(store, v, request):
    entity = v.get("entity") or store.entity
    nodes = [{"node": _project(e, p)} for e, p in sorted(_projects(store)) if e == entity]
    return {"models": {"pageInfo": {"__typename": "PageInfo", "endCursor": None, "hasNextPage": False}, "edges": nodes}}


@operation("CreateProject")
def create_project(store, v, request):
    given = v.get("input") or {}
    key = (given.get("entityName") or store.entity, given["name"])
    inserted = key not in _projects(store)
    store.__dict__.setdefault("created_projects", set()).add(key)
    return {"result": {"project": _project(*key), "model": _project(*key), "inserted": inserted}}


@operation("ProjectInternalId")
def project_internal_id(store, v, request):
    key = (v["entityName"], v["projectName"])
    return {"project": _project(*key) if key in _projects(store) else None}


def _view_answer(view: dict) -> dict:
    project = {
        "id": _project_id(view["entity"], view["project"]),
        "name": view["project"],
        "entityName": view["entity"],
    }
    keys = ("id", "type", "name", "displayName", "description", "spec", "createdAt", "updatedAt")
    return {**{k: view[k] for k in keys}, "project": project}


@operation("upsertView")
def upsert_view(store, v, request):
    key = (v.get("entityName") or store.entity, v.get("projectName"))
    if key not in _projects(store):
        raise GraphQLError(f"project {key[0]}/{key[1]} not found")
    view_id = v.get("id")
    if view_id and view_id not in store.views:
        raise GraphQLError(f"view {view_id} not found")
    inserted = not view_id
    if inserted:  # W&B's ids are base64 of "View:<n>"; 7 digits keep it free of '=' padding for report URLs
        view_id = base64.b64encode(f"View:{len(store.views) + 1:07d}".encode()).decode()
        store.views[view_id] = {"id": view_id, "createdAt": _now()}
    store.views[view_id].update(
        name=v.get("name") or "",
        type=v.get("type") or "runs",
        entity=key[0],
        project=key[1],
        displayName=v.get("displayName") or "",
        description=v.get("description") or "",
        spec=v["spec"],
        updatedAt=_now(),
    )
    return {"upsertView": {"view": _view_answer(store.views[view_id]), "inserted": inserted}}


@operation("SpecificReport")
def specific_report(store, v, request):
    view = store.views.get(v["reportId"])
    return {"view": _view_answer(view) if view else None}
