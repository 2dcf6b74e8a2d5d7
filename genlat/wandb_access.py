"""Whether and how genlat may talk to W&B: the login (env or netrc), one TCP probe of the server,
and the run's mode. Standard library only, so `genlat sweep --sync` and the report's W&B paths
can ask without importing torch or wandb."""

from __future__ import annotations

import netrc
import os
import socket
import threading
from urllib.parse import urlsplit

from genlat.errors import ConfigError

DEFAULT_BASE_URL = "https://api.wandb.ai"


def base_url() -> str:
    return os.environ.get("WANDB_BASE_URL", DEFAULT_BASE_URL)


def has_wandb_login() -> bool:
    """True when an API key is at hand (env or netrc). Checked locally: never touches the network."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlsplit(base_url()).hostname or ""
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    try:
        return bool(netrc.netrc(path).authenticators(host))
    except (OSError, netrc.NetrcParseError):
        return False


def server_problem(timeout_s: float = 5.0) -> str | None:
    """Why W&B's server cannot be reached (one TCP connect), or None when it can. W&B's own start
    would retry an unreachable server for its whole init_timeout; this answers in seconds."""
    parts = urlsplit(base_url())
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    result: list = []

    def probe():  # in a thread: name resolution has no timeout of its own
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
            result.append(None)
        except OSError as e:
            result.append(str(e) or type(e).__name__)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout_s + 1)
    return result[0] if result else "timed out"


MODES = ("online", "offline", "disabled", "dryrun", "run")  # what wandb.init accepts (dryrun = offline, run = online)


def resolve_mode() -> str:
    """WANDB_MODE wins; otherwise online when logged in, offline when not (never wait on a server).
    A value W&B would refuse (a typo such as `ofline`) is a ConfigError."""
    mode = os.environ.get("WANDB_MODE", "").strip().lower()
    if mode and mode not in MODES:
        raise ConfigError(f"WANDB_MODE={os.environ['WANDB_MODE']}: must be online, offline or disabled; "
                          "fix or unset it")
    if mode == "dryrun":
        return "offline"
    if mode == "run":
        return "online"
    if mode in ("online", "offline", "disabled"):
        return mode
    if os.environ.get("WANDB_DISABLED", "").lower() in ("1", "true", "yes"):
        return "disabled"
    return "online" if has_wandb_login() else "offline"
