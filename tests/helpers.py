"""What the test files share: the tiny run's flags, a child process's environment, reading a run
directory and its PNGs, a free port, and tiny sweep files and a runner started as a user would start it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

TINY = [
    "--image_size",
    "32",
    "--epoch_size",
    "64",
    "--batch_size",
    "16",
    "--ngf",
    "8",
    "--ndf",
    "8",
    "--zn",
    "8",
    "--n_samples",
    "16",
    "--grid_nrow",
    "4",
    "--interp_pairs",
    "2",
    "--interp_steps",
    "4",
    "--log_every",
    "2",
    "--eval_samples",
    "32",
]  # (a run that trains in about a second: 32x32, 4 steps per epoch, narrow nets)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a process a test starts: ours, without the handle of this process's W&B
    service (wandb.init sets WANDB_SERVICE), so a child that is killed cannot leave a run open in it."""
    env = {k: v for k, v in os.environ.items() if k != "WANDB_SERVICE"}
    return {**env, **extra}


def only_run(root: Path) -> Path:
    """The one run directory under an output root (fails when there are none or several)."""
    (run,) = Path(root).iterdir()
    return run


def metrics_rows(run: Path) -> list[dict]:
    """Every line of the run's metrics.jsonl, parsed (a torn or empty line fails the test)."""
    return [json.loads(line) for line in (Path(run) / "metrics.jsonl").read_text().splitlines()]


def epochs(run: Path) -> list[int]:
    return [row["epoch"] for row in metrics_rows(run)]


def load_png(path: Path) -> np.ndarray:
    """A PNG as an (H, W) or (H, W, 3) uint8 array, as genlat wrote it (L or RGB)."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB") if img.mode not in ("L", "RGB") else img)


def free_port() -> int:
    """A local TCP port nothing listens on (once this socket is closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout: float = 180, what: str = "a condition") -> None:
    """Poll cond() until it is true; fail the test after `timeout` seconds, naming what never came."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def sweep_state(root: Path) -> dict:
    return json.loads((Path(root) / "sweep.json").read_text())


# --- sweeps -------------------------------------------------------------------------------------------
# The tiny run of conftest.TINY as sweep parameters (no evaluation: it is another test's business).
TINY_PARAMS = {
    "epochs": 1,
    "image_size": 32,
    "epoch_size": 64,
    "batch_size": 16,
    "ngf": 8,
    "ndf": 8,
    "n_samples": 16,
    "grid_nrow": 4,
    "interp_pairs": 2,
    "interp_steps": 4,
    "log_every": 2,
    "eval_every": 0,
}


def sweep_file(path: Path, zn=(8, 16), method="grid", command=None, **extra) -> Path:
    params = {k: {"value": v} for k, v in TINY_PARAMS.items()}
    params["zn"] = {"values": list(zn)}
    for k, v in extra.pop("params", {}).items():
        params[k] = v if isinstance(v, dict) else {"value": v}
    config = {
        "name": path.stem,
        "program": "train.py",
        "method": method,
        "metric": {"name": "epoch/loss_g", "goal": "minimize"},
        "parameters": params,
        "command": command or ["${env}", "${interpreter}", "${program}", "${args}"],
        **extra,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def runner(args: list[str], **kw) -> subprocess.Popen:
    """`python -m genlat sweep ...` from the repository root (where `program: train.py` resolves)."""
    return subprocess.Popen(
        [sys.executable, "-m", "genlat", "sweep", *args],
        cwd=ROOT,
        env=child_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


def run_sweep(args: list[str], timeout=240) -> subprocess.CompletedProcess:
    proc = runner(args)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@contextlib.contextmanager
def front_page_only_server():
    """A local HTTP server that answers GET and HEAD at once but never answers a POST (W&B's API):
    a server that passed a front-page probe and then hung every W&B call. Yields its URL."""
    import http.server

    release = threading.Event()

    class FrontPageOnly(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

        def do_POST(self):
            release.wait(120)  # silent until the test is over

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FrontPageOnly)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
