"""The HTTP side: a threaded server on 127.0.0.1 routing GraphQL, the run file stream, file
uploads/downloads and artifact storage to the handlers. Start with `LocalWandbServer().start()`."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.wandb_server import artifacts, files, graphql, public_api, reports, routes, runs, sweeps  # noqa: F401  (they register their operations)
from tests.wandb_server.store import Store

API_KEY = "local" + "0" * 35  # 40 characters, as W&B's keys are


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up before reading the whole answer (a probe) is not the server's error: a
    real server logs nothing into the client's stderr for it (socketserver printed a traceback there)."""

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class LocalWandbServer:
    def __init__(self, api_key: str = API_KEY):
        self.api_key = api_key
        self.store = Store()
        self._http: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._http is not None, "start the server first"
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    def start(self) -> LocalWandbServer:
        server = self

        class Handler(_Handler):
            local = server

        self._http = _QuietServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.store.base_url = self.url
        threading.Thread(target=self._http.serve_forever, name="local-wandb-server", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def check(self) -> None:
        """Fail on any request the server did not know (operation or route), naming them."""
        unknown = sorted(set(self.store.unknown))
        assert not unknown, f"the local W&B server was sent operations it does not implement: {unknown}"

    def env(self) -> dict[str, str]:
        """What a process needs in its environment to log online to this server."""
        return {"WANDB_BASE_URL": self.url, "WANDB_API_KEY": self.api_key, "WANDB_MODE": "online"}


class _Handler(BaseHTTPRequestHandler):
    local: LocalWandbServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet: the store records what matters
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _authorized(self) -> bool:
        kind, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
        try:
            user, _, key = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return kind == "Basic" and key == self.local.api_key

    def answer(self, status: int, body: bytes | dict | list = b"", content_type: str = "application/json") -> None:
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _route(self, method: str) -> None:
        store = self.local.store
        body = self._body() if method in ("POST", "PUT") else b""
        path = self.path.split("?", 1)[0]
        # the API key, as W&B's server checks it: GraphQL and the file stream carry "Basic api:KEY"
        # (upload/download URLs stand for signed URLs and carry none); a wrong one is refused with 401
        if (path == "/graphql" or path.endswith("/file_stream")) and not self._authorized():
            return self.answer(401, {"errors": [{"message": "local W&B server: wrong or missing API key"}]})
        if method == "POST" and path == "/graphql":
            request = json.loads(body or b"{}")
            with store.lock:
                if isinstance(request, list):  # a batch
                    results = [graphql.execute(store, r, self) for r in request]
                    return self.answer(200, [r for _, r in results])
                status, response = graphql.execute(store, request, self)
            return self.answer(status, response)
        handler: Callable | None = routes.find(method, path)
        if handler is None:
            store.unknown.append(f"{method} {path}")
            return self.answer(404, {"error": f"local W&B server: no route {method} {path}"})
        with store.lock:
            result = handler(store, path, body, self)
        status, payload, content_type = (
            (*result, "application/json")[:3] if isinstance(result, tuple) else (200, result, "application/json")
        )
        self.answer(status, payload, content_type)

    def do_GET(self):
        self._route("GET")

    def do_HEAD(self):
        self._route("HEAD")

    def do_POST(self):
        self._route("POST")

    def do_PUT(self):
        self._route("PUT")
