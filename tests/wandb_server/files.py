"""A run's files: CreateRunFiles hands out upload URLs on this server, PUT /storage/<key> stores
the bytes in Store.blobs and GET /storage/<key> serves them back (the public API's downloads).
wandb-core's own telemetry (POST /sdk/otel/...) is accepted and dropped."""

from __future__ import annotations

from tests.wandb_server.graphql import operation
from tests.wandb_server.routes import route
from tests.wandb_server.store import Store


def file_url(store: Store, key: str) -> str:
    return f"{store.base_url}/storage/{key}"


@operation("CreateRunFiles")
def create_run_files(store: Store, v, request):
    run = store.run(v["entity"], v["project"], v["run"])
    files = []
    for name in v["files"]:
        key = f"runs/{run.entity}/{run.project}/{run.name}/{name}"
        run.files[name] = key
        files.append({"name": name, "uploadUrl": file_url(store, key)})
    return {"createRunFiles": {"runID": run.storage_id, "uploadHeaders": [], "files": files}}


@route("PUT", r"^/storage/.+$")
def put_blob(store: Store, path: str, body: bytes, request):
    store.blobs[path[len("/storage/") :]] = body
    return 200, b"", "text/plain"


@route("GET", r"^/storage/.+$")
def get_blob(store: Store, path: str, body: bytes, request):
    data = store.blobs.get(path[len("/storage/") :])
    if data is None:
        return 404, b"not stored", "text/plain"
    return 200, data, "application/octet-stream"


@route("POST", r"^/sdk/otel/.+$")
def telemetry(store: Store, path: str, body: bytes, request):
    return 200, b"{}"
