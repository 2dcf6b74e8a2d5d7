"""The W&B API key never lands in genlat's own files, logs or output: a tiny run and a tiny sweep
with a unique key in the environment, then every file outside W&B's own folders is searched."""

import json
import secrets

from genlat.sweep.cli import sweep_main
from tests.helpers import run_sweep, sweep_file


def _files_outside_wandb(root):
    """W&B's own folders: wandb/ (its runs), wandb-data/ (its media staging) and the tests' wandb-home etc."""
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith("wandb") for part in p.relative_to(root).parts)
    ]


def test_the_api_key_is_never_written(tmp_path, monkeypatch, capsys):
    key = "genlatsecret" + secrets.token_hex(14)  # 40 characters, like a real key
    monkeypatch.setenv("WANDB_API_KEY", key)  # WANDB_MODE stays offline (conftest): nothing leaves
    # a sweep of one trial: the runner's files and log, and a real `python train.py` run with its output
    sweep = sweep_file(tmp_path / "secret.yaml", zn=(8,))
    done = run_sweep([str(sweep), "--dir", str(tmp_path / "sweep")])
    assert done.returncode == 0, done.stderr
    assert sweep_main(["--status", str(tmp_path / "sweep")]) == 0
    status = capsys.readouterr()

    files = _files_outside_wandb(tmp_path)
    names = {p.name for p in files}
    assert {"config.json", "metrics.jsonl", "status.json", "sweep.json", "epoch_001.pt"} <= names  # it looked
    assert any(n.endswith(".log") for n in names)  # the trial's output: everything train.py printed
    leaks = [str(p) for p in files if key.encode() in p.read_bytes()]
    assert leaks == []
    for text in (done.stdout, done.stderr, status.out, status.err):
        assert key not in text
    # the config records settings, not the environment
    for config in tmp_path.rglob("config.json"):
        if not any(part.startswith("wandb") for part in config.parts):
            record = json.loads(config.read_text())
            assert "WANDB_API_KEY" not in json.dumps(record) and "env" not in record
