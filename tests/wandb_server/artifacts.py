"""Artifacts: what wandb-core sends to save one (a logged wandb.Table is the artifact
`run-<run id>-<key>` of type run_table) and what wandb.Api reads back. The save, as core's
ArtifactSaver does it: CreateArtifact (an artifact whose digest its collection already holds comes
back COMMITTED and nothing else is sent), CreateArtifactManifest, CreateArtifactFiles (an upload
URL per file the server lacks), the uploads, CreateArtifactManifest again or UpdateArtifactManifest
(the manifest's upload URL), CommitArtifact, UseArtifact. Files are stored by content (their md5)
under /storage/, and every file the public API lists carries its direct URL there."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

from tests.wandb_server.graphql import GraphQLError, operation
from tests.wandb_server.public_api import iso, page
from tests.wandb_server.routes import route
from tests.wandb_server.store import Store


@dataclass
class ServerArtifact:
    id: str
    entity: str
    project: str
    collection: str  # the sequence's name, e.g. run-abc123-interpolation
    type: str
    digest: str
    version: int  # versionIndex: v0, v1, ... within the collection
    run: str | None  # the run that logged it
    state: str = "PENDING"  # then COMMITTED
    aliases: set[str] = field(default_factory=set)
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    history_step: int | None = None
    manifest_id: str = ""
    manifest_type: str = "FULL"  # INCREMENTAL (an incremental table's increments): adds to its base's files
    base_id: str | None = None  # the version an INCREMENTAL manifest adds to
    used_by: list[str] = field(default_factory=list)  # run ids that used it
    created_at: float = field(default_factory=time.time)

    @property
    def manifest_key(self) -> str:
        return f"manifests/{self.id}"


def blob_key(entity: str, b64_md5: str) -> str:
    """Artifact files are stored by content: the md5 the manifest names them by (base64 there)."""
    return f"artifacts/{entity}/{base64.b64decode(b64_md5).hex()}"


def versions(store: Store, entity: str, project: str, collection: str) -> list[ServerArtifact]:
    return sorted(
        (a for a in store.artifacts.values() if (a.entity, a.project, a.collection) == (entity, project, collection)),
        key=lambda a: a.version,
    )


def manifest(store: Store, art: ServerArtifact) -> dict:
    """The artifact's whole manifest: an INCREMENTAL one holds only its own files, W&B's server
    serves them on top of its base version's."""
    own = json.loads(store.blobs.get(art.manifest_key) or b'{"contents": {}}')
    base = store.artifacts.get(art.base_id) if art.manifest_type == "INCREMENTAL" and art.base_id else None
    if base is not None:
        own["contents"] = {**manifest(store, base)["contents"], **own.get("contents", {})}
    return own


def find(store: Store, entity: str, project: str, name: str) -> ServerArtifact | None:
    """`collection:alias` or `collection:vN` (an id or a digest also answer, as W&B's do)."""
    if name in store.artifacts:
        return store.artifacts[name]
    collection, _, tag = name.partition(":")
    tag = tag or "latest"
    for art in reversed(versions(store, entity, project, collection)):
        if art.state == "COMMITTED" and (tag in art.aliases or tag == f"v{art.version}" or tag == art.digest):
            return art
    return None


# --- the save ---------------------------------------------------------------------------------------
@operation("CreateArtifact")
def create_artifact(store: Store, v, request):
    i = v["input"]
    entity, project, collection = i.get("entityName") or store.entity, i["projectName"], i["artifactCollectionName"]
    existing = versions(store, entity, project, collection)
    same = next((a for a in existing if a.digest == i["digest"] and a.state == "COMMITTED"), None)
    if same is None:
        same = ServerArtifact(
            store.new_id("artifact"),
            entity,
            project,
            collection,
            i["artifactTypeName"],
            i["digest"],
            version=len(existing),
            run=i.get("runName"),
            description=i.get("description"),
            metadata=json.loads(i["metadata"]) if i.get("metadata") else {},
            history_step=i.get("historyStep"),
        )
        same.aliases = {a["alias"] for a in i.get("aliases") or []}
        store.artifacts[same.id] = same
    latest = next((a for a in reversed(existing) if a.state == "COMMITTED" and a is not same), None)
    return {
        "createArtifact": {
            "artifact": {
                "id": same.id,
                "state": same.state,
                "artifactSequence": {"latestArtifact": {"id": latest.id} if latest else None},
            }
        }
    }


def _manifest_payload(store: Store, art: ServerArtifact, manifest_id: str) -> dict:
    return {
        "artifactManifest": {
            "id": manifest_id,
            "file": {
                "id": f"file-{manifest_id}",
                "uploadUrl": f"{store.base_url}/storage/{art.manifest_key}",
                "uploadHeaders": [],
            },
        }
    }


@operation("CreateArtifactManifest")
def create_manifest(store: Store, v, request):
    art = store.artifacts[v["artifactID"]]
    art.manifest_id = f"manifest-{art.id}"
    art.manifest_type, art.base_id = v.get("manifestType") or "FULL", v.get("baseArtifactID")
    return {"createArtifactManifest": _manifest_payload(store, art, art.manifest_id)}


@operation("UpdateArtifactManifest")
def update_manifest(store: Store, v, request):
    art = next(a for a in store.artifacts.values() if a.manifest_id == v["artifactManifestID"])
    art.base_id = v.get("baseArtifactID") or art.base_id
    return {"updateArtifactManifest": _manifest_payload(store, art, art.manifest_id)}


@operation("CreateArtifactFiles")
def create_artifact_files(store: Store, v, request):
    edges = []
    for spec in v["artifactFiles"] if "artifactFiles" in v else v["input"]["artifactFiles"]:
        art = store.artifacts[spec["artifactID"]]
        key = blob_key(art.entity, spec["md5"])
        edges.append(
            {
                "node": {
                    "storagePath": key,
                    # None: the server has these bytes already (another artifact uploaded them)
                    "uploadUrl": None if key in store.blobs else f"{store.base_url}/storage/{key}",
                    "uploadHeaders": [],
                    "uploadMultipartUrls": None,
                    "artifact": {"id": art.id},
                }
            }
        )
    return {"createArtifactFiles": {"files": {"edges": edges}}}


@operation("CommitArtifact")
def commit_artifact(store: Store, v, request):
    art = store.artifacts[v["artifactID"]]
    if art.manifest_key not in store.blobs:
        raise GraphQLError(f"artifact {art.id}: no manifest uploaded")
    art.state = "COMMITTED"
    # `latest` moves to the newest version, as W&B's does
    for other in versions(store, art.entity, art.project, art.collection):
        if other is not art:
            other.aliases.discard("latest")
    art.aliases.add("latest")
    return {"commitArtifact": {"artifact": {"id": art.id, "digest": art.digest}}}


@operation("UseArtifact")
def use_artifact(store: Store, v, request):
    i = v["input"]
    art = store.artifacts[i["artifactID"]]
    run = i.get("runName")
    if run and run not in art.used_by:
        art.used_by.append(run)
    return {"useArtifact": {"artifact": {"id": art.id}}}


@operation("ArtifactType")
def artifact_type(store: Store, v, request):
    """The Python side asks for the type of an artifact it may be about to log."""
    art = find(store, v.get("entity") or store.entity, v["project"], v["name"])
    return {"project": {"artifact": {"artifactType": {"name": art.type}} if art else None}}


# --- reads (wandb.Api) ----------------------------------------------------------------------------
@route("GET", r"^/artifact-manifest/[^/]+$")
def manifest_file(store: Store, path: str, body, request):
    art = store.artifacts.get(path.rsplit("/", 1)[1])
    return (200, manifest(store, art)) if art else (404, {"error": "no such artifact"})


def _project_info(art: ServerArtifact) -> dict:
    return {"id": f"project-{art.project}", "internalId": "1", "name": art.project, "entity": {"name": art.entity}}


def artifact_node(store: Store, art: ServerArtifact) -> dict:
    """W&B's `Artifact` with every field of the public API's ArtifactFragment."""
    contents = manifest(store, art).get("contents", {})
    collection = {"__typename": "ArtifactSequence", "name": art.collection, "project": _project_info(art)}
    return {
        "__typename": "Artifact",
        "id": art.id,
        "artifactSequence": collection,
        "versionIndex": art.version,
        "artifactType": {"name": art.type},
        "description": art.description,
        "metadata": json.dumps(art.metadata),
        "ttlDurationSeconds": -1,
        "ttlIsInherited": True,
        "tags": [],
        "historyStep": art.history_step,
        "state": art.state,
        "size": sum(e.get("size") or 0 for e in contents.values()),
        "digest": art.digest,
        "digestAlgorithm": "MANIFEST_MD5",
        "commitHash": art.digest[:12],
        "fileCount": len(contents),
        "createdAt": iso(art.created_at),
        "updatedAt": iso(art.created_at),
        "aliases": [
            {"__typename": "ArtifactAlias", "id": f"alias-{art.id}-{a}", "alias": a, "artifactCollection": collection}
            for a in sorted(art.aliases)
        ],
        "currentManifest": {"file": {"directUrl": f"{store.base_url}/artifact-manifest/{art.id}"}},
    }


def _connection(store: Store, arts: list[ServerArtifact], v) -> dict:
    edges, info = page(arts, v.get("perPage") or 100, v.get("cursor"))
    return {
        "totalCount": len(arts),
        "pageInfo": info,
        "edges": [{"node": artifact_node(store, a), "cursor": c} for c, a in edges],
    }


def _run_artifacts(store: Store, v, logged: bool) -> dict:
    entity, project, run = v.get("entity") or store.entity, v["project"], v["run"]
    if (entity, project, run) not in store.runs:
        return {"project": {"run": None}}
    arts = [
        a for a in store.artifacts.values() if a.state == "COMMITTED" and (a.entity, a.project) == (entity, project)
    ]
    # a run's own outputs are not its inputs (core "uses" what it logs)
    arts = [a for a in arts if a.run == run] if logged else [a for a in arts if run in a.used_by and a.run != run]
    return {"project": {"run": {"artifacts": _connection(store, arts, v)}}}


@operation("RunOutputArtifacts")
def run_output_artifacts(store: Store, v, request):
    return _run_artifacts(store, v, logged=True)


@operation("RunInputArtifacts")
def run_input_artifacts(store: Store, v, request):
    return _run_artifacts(store, v, logged=False)


@operation("ArtifactByID", "FetchArtifactManifest")
def artifact_by_id(store: Store, v, request):
    art = store.artifacts.get(v["id"])
    return {"artifact": artifact_node(store, art) if art else None}


@operation("ArtifactMembershipByName")
def artifact_membership(store: Store, v, request):
    art = find(store, v.get("entity") or store.entity, v["project"], v["name"])
    if art is None:
        return {"project": {"artifactCollectionMembership": None}}
    node = artifact_node(store, art)
    return {
        "project": {
            "artifactCollectionMembership": {
                "__typename": "ArtifactCollectionMembership",
                "id": f"membership-{art.id}",
                "versionIndex": art.version,
                "createdAt": node["createdAt"],
                "aliases": node["aliases"],
                "artifactCollection": node["artifactSequence"],
                "artifact": node,
            }
        }
    }


def file_nodes(store: Store, art: ServerArtifact, names: list[str] | None = None) -> list[dict]:
    """The artifact's files (its manifest's entries) as W&B's `File`, with download URLs here."""
    nodes = []
    for name, entry in sorted(manifest(store, art).get("contents", {}).items()):
        if names and name not in names:
            continue
        url = f"{store.base_url}/storage/{blob_key(art.entity, entry['digest'])}"
        nodes.append(
            {
                "__typename": "File",
                "id": f"file-{art.id}-{name}",
                "name": name,
                "displayName": name,
                "url": url,
                "directUrl": url,
                "sizeBytes": entry.get("size") or 0,
                "storagePath": blob_key(art.entity, entry["digest"]),
                "mimetype": None,
                "updatedAt": iso(art.created_at),
                "digest": entry["digest"],
                "md5": entry["digest"],
            }
        )
    return nodes


@operation("ArtifactMembershipFiles", "GetArtifactMembershipFileUrls")
def artifact_membership_files(store: Store, v, request):
    art = find(store, v.get("entity") or store.entity, v["project"], f"{v['collection']}:{v['alias']}")
    if art is None:
        return {"project": {"artifactCollection": None}}
    nodes = file_nodes(store, art, v.get("fileNames"))
    edges, info = page(nodes, v.get("perPage") or 50, v.get("cursor"))
    files = {"totalCount": len(nodes), "edges": [{"node": n, "cursor": c} for c, n in edges], "pageInfo": info}
    return {
        "project": {"artifactCollection": {"__typename": "ArtifactSequence", "artifactMembership": {"files": files}}}
    }
