"""GraphQL by operation name: each handler is registered once with `@operation("Name")` and gets
(store, variables, request) and returns the `data` object. wandb-core sends `"operationName": ""`,
so the name is read from the document itself; an anonymous document is named by its first field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Handler = Callable[..., dict]
OPERATIONS: dict[str, Handler] = {}

_NAMED = re.compile(r"^\s*(query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
_FIRST_FIELD = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)")


class GraphQLError(Exception):
    """Answered as {"errors": [{"message": ...}]}, the way W&B's server reports a refused request."""


def operation(*names: str):
    def register(fn: Handler) -> Handler:
        for name in names:
            assert name not in OPERATIONS, f"operation {name} registered twice"
            OPERATIONS[name] = fn
        return fn

    return register


def operation_name(body: dict) -> str:
    if body.get("operationName"):
        return body["operationName"]
    query = body.get("query") or ""
    named = _NAMED.search(query)
    if named:
        return named.group(2)
    first = _FIRST_FIELD.search(query)
    return f"anonymous:{first.group(1) if first else '?'}"


def execute(store, body: dict, request: Any) -> tuple[int, dict]:
    """(HTTP status, response body) of one GraphQL request."""
    name = operation_name(body)
    handler = OPERATIONS.get(name)
    if handler is None:
        store.unknown.append(name)
        return 400, {"errors": [{"message": f"local W&B server: unknown operation {name}"}]}
    store.calls.append(name)
    try:
        return 200, {"data": handler(store, body.get("variables") or {}, request)}
    except GraphQLError as e:
        return 200, {"errors": [{"message": str(e), "path": [name]}]}
