"""genlat.wandb_access finds a login as `wandb login --host http://HOST:PORT KEY` leaves it: the key in
the netrc under `machine HOST:PORT`, the URL in W&B's settings file (not in the environment)."""

import os

from genlat.sweep.cli import sweep_main
from genlat.wandb_access import DEFAULT_BASE_URL, base_url, has_wandb_login, resolve_mode
from tests.helpers import free_port

KEY = "k" * 40


def _logged_in_with_host(url: str, machine: str) -> None:
    """What `wandb login --host URL KEY` writes (wandb 0.31: wbnetrc.write_netrc_auth, wandb_login)."""
    with open(os.environ["NETRC"], "w") as f:
        f.write(f"machine {machine}\n  login user\n  password {KEY}\n")
    os.makedirs(os.environ["WANDB_CONFIG_DIR"], exist_ok=True)
    with open(os.path.join(os.environ["WANDB_CONFIG_DIR"], "settings"), "w") as f:
        f.write(f"[default]\nbase_url = {url}\n")


def test_a_login_to_a_server_on_a_port_is_found(monkeypatch):
    assert base_url() == DEFAULT_BASE_URL and not has_wandb_login() and resolve_mode() == "offline"
    monkeypatch.delenv("WANDB_MODE")
    port = free_port()
    _logged_in_with_host(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}")
    assert base_url() == f"http://127.0.0.1:{port}"  # from the settings file
    assert has_wandb_login()  # from `machine 127.0.0.1:PORT`
    assert resolve_mode() == "online"
    monkeypatch.setenv("WANDB_BASE_URL", "http://10.0.0.1:8080")  # the environment wins, as in W&B
    assert base_url() == "http://10.0.0.1:8080" and not has_wandb_login()


def test_a_netrc_entry_by_host_name_alone_still_counts(monkeypatch):
    _logged_in_with_host("http://wandb.example:8080", "wandb.example")  # what older wandb versions wrote
    assert has_wandb_login()
    with open(os.environ["NETRC"], "w") as f:
        f.write("machine wandb.example:8080\n  login user\n")  # an entry without a key is no login
    assert not has_wandb_login()


def test_sync_reaches_the_server_wandb_login_saved(tmp_path, monkeypatch, capsys):
    """Before: `genlat sweep --sync` said "not logged in" to a user logged in with --host."""
    monkeypatch.chdir(tmp_path)
    port = free_port()  # nothing listens there: the probe names the saved server
    _logged_in_with_host(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}")
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.json").write_text(
        '{"sweep_id": "abcd1234", "name": "x", "method": "grid", "fingerprint": "f", "trials": []}'
    )
    assert sweep_main(["--sync", str(tmp_path / "sweep")]) == 69
    (line,) = capsys.readouterr().err.splitlines()
    assert f"cannot reach W&B at http://127.0.0.1:{port}" in line
