"""W&B without a network and with a wrong API key, in each mode: a run never hangs on a server and
never fails for W&B's sake; online falls back to offline with one warning line."""

import http.server
import json
import socket
import threading
import time

import pytest

from genlat.cli import train_main
from tests.helpers import free_port, front_page_only_server, only_run

KEY = "k" * 40  # a well-formed key the server does not know


@pytest.fixture
def refusing_server():
    """A local HTTP server that answers every request 401, as W&B's server does for a wrong key."""

    class Refuse(http.server.BaseHTTPRequestHandler):
        def _refuse(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errors": [{"message": "user is not logged in"}]}')

        do_GET = do_POST = _refuse

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _train(tmp_path, tiny_args):
    return train_main([*tiny_args, "--epochs", "1", "--eval_every", "0"])


def _offline_runs(tmp_path):
    run = only_run(tmp_path / "runs")
    return list((run / "wandb").glob("offline-run-*")), json.loads((run / "config.json").read_text())


@pytest.fixture
def counting_listener():
    """A socket that listens and counts the connections it accepts: proof of whether anyone dialled."""
    accepted = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            accepted.append(1)
            conn.close()

    stop = threading.Event()
    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    stop.set()
    worker.join()
    server.close()


@pytest.mark.parametrize("mode", ["offline", "disabled"])
def test_offline_and_disabled_never_try_the_server(mode, tmp_path, tiny_args, monkeypatch, capfd, counting_listener):
    url, accepted = counting_listener
    monkeypatch.setenv("WANDB_MODE", mode)
    monkeypatch.setenv("WANDB_API_KEY", KEY)
    monkeypatch.setenv("WANDB_BASE_URL", url)
    assert _train(tmp_path, tiny_args) == 0
    assert accepted == []  # not one connection: not genlat's probe, not W&B's own client
    err = capfd.readouterr().err
    assert "warning" not in err.lower() and "127.0.0.1" not in err
    runs, _ = _offline_runs(tmp_path)
    assert len(runs) == (1 if mode == "offline" else 0)


def test_online_without_a_network_logs_offline_at_once(tmp_path, tiny_args, monkeypatch, capfd):
    base = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_API_KEY", KEY)
    monkeypatch.setenv("WANDB_BASE_URL", base)
    assert _train(tmp_path, tiny_args) == 0
    err = capfd.readouterr().err
    # "cannot reach" comes from genlat's probe: W&B's own start would have retried for init_timeout (30 s)
    (line,) = [ln for ln in err.splitlines() if "W&B online failed" in ln]
    assert f"cannot reach {base}" in line and "logging offline" in line and "wandb sync" in line
    runs, config = _offline_runs(tmp_path)
    assert len(runs) == 1 and runs[0].name.endswith(config["wandb_id"])
    assert KEY not in err


def test_a_server_that_accepts_but_never_answers_costs_seconds_not_a_minute(tmp_path, tiny_args, monkeypatch, capfd):
    """After genlat's probe (one connection) the run logs offline and never dials that server again:
    W&B's SDK telemetry posted to it at exit and waited its 10 s timeout, after the last epoch."""
    silent = socket.create_server(("127.0.0.1", 0))  # accepted and held; nobody ever answers
    base = f"http://127.0.0.1:{silent.getsockname()[1]}"
    held = []

    def hold():
        while True:
            try:
                held.append(silent.accept()[0])
            except OSError:
                return

    threading.Thread(target=hold, daemon=True).start()
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_API_KEY", KEY)
    monkeypatch.setenv("WANDB_BASE_URL", base)
    try:
        t0 = time.monotonic()
        assert _train(tmp_path, tiny_args) == 0
        seconds = time.monotonic() - t0
    finally:
        silent.close()
    (line,) = [ln for ln in capfd.readouterr().err.splitlines() if "W&B online failed" in ln]
    # genlat's probe said so (W&B's own start would have waited its init_timeout, 30 s, then some)
    assert "connected, but no answer within 5 s" in line and "logging offline" in line
    assert seconds < 28, seconds
    assert len(held) == 1  # the probe, and nothing at exit
    runs, _ = _offline_runs(tmp_path)
    assert len(runs) == 1


def test_online_with_a_wrong_api_key_logs_offline(tmp_path, tiny_args, monkeypatch, capfd, refusing_server):
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_API_KEY", KEY)
    monkeypatch.setenv("WANDB_BASE_URL", refusing_server)
    assert _train(tmp_path, tiny_args) == 0
    captured = capfd.readouterr()
    (line,) = [ln for ln in captured.err.splitlines() if "W&B online failed" in ln]
    assert "logging offline" in line
    runs, _ = _offline_runs(tmp_path)
    assert len(runs) == 1
    assert KEY not in captured.err + captured.out


def test_a_server_that_answers_its_front_page_but_not_its_api_costs_seconds(tmp_path, tiny_args, monkeypatch, capfd):
    """The probe asks W&B's API (POST /graphql), not the front page: a server that answered `HEAD /`
    and then never answered a W&B call made W&B wait its whole init_timeout."""
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("WANDB_API_KEY", KEY)
    with front_page_only_server() as base:
        monkeypatch.setenv("WANDB_BASE_URL", base)
        t0 = time.monotonic()
        assert _train(tmp_path, tiny_args) == 0
        seconds = time.monotonic() - t0
    (line,) = [ln for ln in capfd.readouterr().err.splitlines() if "W&B online failed" in ln]
    assert "connected, but no answer within 5 s" in line and "logging offline" in line
    assert seconds < 28, seconds
    assert len(_offline_runs(tmp_path)[0]) == 1
