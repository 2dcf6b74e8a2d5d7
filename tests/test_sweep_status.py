"""`genlat sweep --status DIR` and `--sync DIR`, on a sweep state written by hand (no training)."""

import json
import subprocess
import sys
import time

import pytest

from genlat.sweep.cli import sweep_main
from genlat.sweep.spec import load_spec
from genlat.sweep.state import SweepState, new_trial, refresh_from_run
from tests.helpers import ROOT, child_env, front_page_only_server, sweep_file


@pytest.fixture
def sweep_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    spec = load_spec(sweep_file(tmp_path / "st.yaml", zn=(8, 16, 24)))
    state = SweepState(tmp_path / "sweep")
    state.create_or_check(spec)
    with state.locked() as data:
        for i, (zn, s, best) in enumerate([(8, "finished", 0.7), (16, "stopped", 0.9), (24, "failed", None)]):
            t = new_trial(i, {"zn": zn}, spec.varying, None)
            t.update(state=s, best=best, epoch=1, epochs=1, attempts=1, error="exit code 1" if s == "failed" else "")
            data["trials"].append(t)
    return state


def test_status_prints_every_trial_and_the_best(sweep_dir, capsys):
    before = sweep_dir.file.read_bytes()
    assert sweep_main(["--status", str(sweep_dir.root)]) == 0
    out = capsys.readouterr().out
    for name, state in [("t000-zn8", "finished"), ("t001-zn16", "stopped"), ("t002-zn24", "failed")]:
        assert name in out and state in out
    assert "epoch/loss_g (min)" in out
    assert "best: t000-zn8  epoch/loss_g=0.7  (zn=8)" in out
    assert "3 trial(s): 1 failed, 1 finished, 1 stopped" in out
    assert sweep_dir.file.read_bytes() == before  # --status only reads


def test_sync_fails_fast_without_a_login(sweep_dir, capsys):
    assert sweep_main(["--sync", str(sweep_dir.root)]) == 69
    (line,) = capsys.readouterr().err.splitlines()
    assert "not logged in to W&B" in line


def test_sync_fails_fast_when_the_server_is_unreachable(sweep_dir, capsys, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    assert sweep_main(["--sync", str(sweep_dir.root)]) == 69
    (line,) = capsys.readouterr().err.splitlines()
    assert "cannot reach W&B at http://127.0.0.1:9" in line and "once this machine is online" in line
    assert not any(t["synced"] for t in json.loads(sweep_dir.file.read_text())["trials"])


def test_sync_imports_neither_torch_nor_wandb_to_probe_the_server(sweep_dir):
    """--sync opens one socket before it calls `wandb sync`; it must not pay torch's import for it."""
    code = (
        "import sys; from genlat.cli import main; code = main(['sweep', '--sync', sys.argv[1]]); "
        "print(sorted(m for m in ('torch', 'torchmetrics', 'wandb') if m in sys.modules)); sys.exit(code)"
    )
    env = child_env(WANDB_API_KEY="x" * 40, WANDB_BASE_URL="http://127.0.0.1:9")
    proc = subprocess.run([sys.executable, "-c", code, str(sweep_dir.root)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 69, proc.stderr
    assert "cannot reach W&B" in proc.stderr
    assert proc.stdout.strip() == "[]"


def test_a_sweep_without_a_metric_is_ranked_by_the_studys(tmp_path, monkeypatch, capsys):
    """Before: no `metric:` in the file meant no best at all, while each run's W&B summary and best.pt
    were ranked by eval/fd (minimized)."""
    monkeypatch.chdir(ROOT)
    path = sweep_file(tmp_path / "plain.yaml", zn=(8, 16))
    path.write_text(
        "\n".join(
            ln for ln in path.read_text().splitlines() if not ln.startswith(("metric:", "  name: epoch", "  goal:"))
        )
    )
    spec = load_spec(path)
    assert spec.metric is None and spec.best.name == "eval/fd"
    state = SweepState(tmp_path / "sweep")
    state.create_or_check(spec)
    with state.locked() as data:
        for i, (zn, fd) in enumerate([(8, 30.0), (16, 20.0)]):
            t = new_trial(i, {"zn": zn}, spec.varying, None)
            t.update(state="finished", epoch=1, epochs=1, attempts=1)
            data["trials"].append(t)
            run = state.run_dir(t)
            run.path.mkdir(parents=True)
            run.metrics.write_text(
                json.dumps({"epoch": 1, "eval/fd": fd - 5}) + "\n" + json.dumps({"epoch": 2, "eval/fd": fd}) + "\n"
            )
            refresh_from_run(t, run, spec.best)  # as the runner records a trial that ended
    assert sweep_main(["--status", str(state.root)]) == 0
    out = capsys.readouterr().out
    assert "eval/fd (min)" in out and "best: t001-zn16  eval/fd=15" in out  # its best epoch, not its last


def test_sync_fails_fast_when_the_server_answers_its_front_page_but_not_its_api(sweep_dir, capsys, monkeypatch):
    """It was still waiting at 150 s (900 s allowed per trial): the probe now asks the API itself."""
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    with front_page_only_server() as base:
        monkeypatch.setenv("WANDB_BASE_URL", base)
        t0 = time.monotonic()
        assert sweep_main(["--sync", str(sweep_dir.root)]) == 69
        assert time.monotonic() - t0 < 15
    (line,) = capsys.readouterr().err.splitlines()
    assert f"cannot reach W&B at {base}" in line and "no answer within 5 s" in line
    assert not any(t["synced"] for t in json.loads(sweep_dir.file.read_text())["trials"])
