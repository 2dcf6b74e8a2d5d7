"""Non-GraphQL routes by method and path pattern, registered with `@route("POST", r"^/files/...$")`.
A handler gets (store, path, body, request) and returns a JSON-able value, or (status, payload[,
content type])."""

from __future__ import annotations

import re
from collections.abc import Callable

ROUTES: list[tuple[str, re.Pattern, Callable]] = []


def route(method: str, pattern: str):
    def register(fn: Callable) -> Callable:
        ROUTES.append((method, re.compile(pattern), fn))
        return fn

    return register


def find(method: str, path: str) -> Callable | None:
    for m, pattern, fn in ROUTES:
        if m == method and pattern.match(path):
            return fn
    return None


@route("HEAD", r"^/$")
@route("GET", r"^/$")
def root(store, path, body, request):  # genlat's reachability probe sends HEAD /
    return 200, b"", "text/plain"


@route("GET", r"^/healthz$")
def health(store, path, body, request):
    return 200, b"ok", "text/plain"
