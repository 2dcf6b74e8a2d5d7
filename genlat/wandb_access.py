"""Whether and how genlat may talk to W&B: the server (env or W&B's settings file), the login (env or
netrc), one TCP probe of the server, and the run's mode. Standard library only, so `genlat sweep
--sync` and the report's W&B paths can ask without importing torch or wandb."""

from __future__ import annotations

import configparser
import netrc
import os
import socket
import ssl
import threading
from urllib.parse import urlsplit

from genlat.errors import ConfigError

DEFAULT_BASE_URL = "https://api.wandb.ai"


def base_url() -> str:
    """The server W&B itself would use: WANDB_BASE_URL, else what `wandb login --host URL` saved, else
    W&B's cloud."""
    return os.environ.get("WANDB_BASE_URL") or saved_base_url() or DEFAULT_BASE_URL


def saved_base_url() -> str | None:
    """`base_url` in W&B's settings file, section [default]: $WANDB_CONFIG_DIR/settings, else
    ~/.config/wandb/settings (wandb/sdk/wandb_setup.py; `wandb login --host` writes it there). The
    workspace file `wandb init` leaves in ./wandb/settings is not read: genlat never runs `wandb init`."""
    folder = os.environ.get("WANDB_CONFIG_DIR") or os.path.join("~", ".config", "wandb")
    settings = configparser.ConfigParser(interpolation=None)
    try:
        settings.read(os.path.join(os.path.expanduser(folder), "settings"))
        return settings.get("default", "base_url", fallback="").strip() or None
    except (OSError, configparser.Error):
        return None


def has_wandb_login() -> bool:
    """True when an API key is at hand (env or netrc). Checked locally: never touches the network."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    url = urlsplit(base_url())
    # wandb writes `machine HOST:PORT` for a server on a port (the URL's netloc), older versions HOST
    machines = dict.fromkeys(m for m in (url.netloc, url.hostname) if m)
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    try:
        entries = netrc.netrc(path)
    except (OSError, netrc.NetrcParseError):
        return False
    return any((entries.authenticators(m) or (None, None, None))[2] for m in machines)  # the key is the password


_PROBE = b'{"query": "query Viewer { viewer { id } }"}'  # W&B's own first query; unauthenticated: any answer will do


def server_problem(timeout_s: float = 5.0) -> str | None:
    """Why W&B's server cannot be used now, or None when it answers. One HTTP round trip (connect,
    TLS, a POST of W&B's first GraphQL query, the first byte back) within `timeout_s` in all: W&B's
    own start would wait its whole init_timeout on a server that is unreachable, that accepts and
    never answers, or that answers its front page but not its API (so the probe asks the API)."""
    parts = urlsplit(base_url())
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    result: list = []
    answered_or_failed = threading.Event()  # set before the drain below: the caller never waits on that

    def probe():  # in a thread: name resolution has no timeout of its own
        try:
            with socket.create_connection((host, port), timeout=timeout_s) as sock:
                if parts.scheme == "https":
                    try:
                        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
                    except ssl.SSLError:
                        result.append(None)  # it answered the handshake; certificates are W&B's business
                        answered_or_failed.set()
                        return
                path = parts.path.rstrip("/") + "/graphql"
                head = (f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(_PROBE)}\r\nConnection: close\r\n\r\n")  # fmt: skip
                sock.sendall(head.encode() + _PROBE)
                answered = sock.recv(1)
                result.append(None if answered else "it closed the connection without answering")
                answered_or_failed.set()
                _drain(sock)  # closing with its answer unread would reset the connection under the server
        except TimeoutError:
            result.append(f"connected, but no answer within {timeout_s:g} s")
        except OSError as e:
            result.append(str(e) or type(e).__name__)
        answered_or_failed.set()

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    answered_or_failed.wait(timeout_s + 1)
    return result[0] if result else f"no answer within {timeout_s:g} s"


def _drain(sock, limit: int = 1 << 16) -> None:
    """Read what is left of the answer (the probe asked for `Connection: close`), briefly, ignoring errors."""
    sock.settimeout(1.0)
    try:
        while limit > 0 and (chunk := sock.recv(4096)):
            limit -= len(chunk)
    except OSError:
        pass


MODES = ("online", "offline", "disabled", "dryrun", "run")  # what wandb.init accepts (dryrun = offline, run = online)


def resolve_mode() -> str:
    """WANDB_MODE wins; otherwise online when logged in, offline when not (never wait on a server).
    A value W&B would refuse (a typo such as `ofline`) is a ConfigError."""
    mode = os.environ.get("WANDB_MODE", "").strip().lower()
    if mode and mode not in MODES:
        raise ConfigError(
            f"WANDB_MODE={os.environ['WANDB_MODE']}: must be online, offline or disabled; fix or unset it"
        )
    if mode == "dryrun":
        return "offline"
    if mode == "run":
        return "online"
    if mode in ("online", "offline", "disabled"):
        return mode
    if os.environ.get("WANDB_DISABLED", "").lower() in ("1", "true", "yes"):
        return "disabled"
    return "online" if has_wandb_login() else "offline"
