"""What a run tells W&B, read where W&B would read it (the run's transaction log offline, the local
server online): job_type, tags, a config of the experiment's settings only, the ranking metric's best
(not last) in the summary, the run's URL at its start; and best.pt, the best epoch's weights."""

import json
import subprocess
import sys
import types
from pathlib import Path

import torch

from genlat.checkpoint import list_checkpoints, load_latest
from genlat.cli import train_main
from genlat.keys import Best
from genlat.metrics.registry import STEP_METRICS
from genlat.tracking import BOOKKEEPING, Tracker
from tests.helpers import ROOT, TINY, child_env, metrics_rows, only_run
from tests.wandb_log import history, of_kind, summary, the_log

WANDB = str(Path(sys.executable).parent / "wandb")  # the CLI, as a user runs it


def test_a_run_follows_wandb_conventions_and_keeps_its_best_epoch(tmp_path, tiny_args, monkeypatch):
    monkeypatch.setenv("GENLAT_SWEEP_ID", "swp00001")  # as genlat sweep starts a trial
    assert train_main([*tiny_args, "--epochs", "3", "--keep_checkpoints", "1"]) == 0
    run = only_run(tmp_path / "runs")
    log, rows = the_log(run), metrics_rows(run)
    (record,) = of_kind(log, "run")
    assert record.job_type == "train" and list(record.tags) == ["dcgan", "shapes", "sweep-swp00001"]
    config = {item.key for c in [record.config, *of_kind(log, "config")] for item in c.update}
    assert not config & set(BOOKKEEPING), config & set(BOOKKEEPING)  # out, name, log_every, ...: config.json's alone
    assert {"zn", "lr", "seed", "epochs", "mixed_precision_resolved", "eval/feature_space"} <= config
    assert {"out", "name", "log_every", "wandb_id"} <= set(json.loads((run / "config.json").read_text()))
    # the summary of eval/fd is its best epoch's value (before: the last epoch's)
    (fd,) = [m for m in of_kind(log, "metric") if m.name == "eval/fd"]
    assert fd.summary.min and fd.step_metric == "epoch"
    globs = {
        m.glob_name: m.step_metric for m in of_kind(log, "metric") if m.glob_name
    }  # each key's x-axis: the registry's
    assert {g: globs.get(g) for g, _ in STEP_METRICS} == {
        "train/*": "train/step",
        "epoch/*": "epoch",
        "eval/*": "epoch",
    }
    best = Best()
    assert summary(log)["eval/fd"] == {"min": best.value(rows)}
    # best.pt beside the newest checkpoint holds the best epoch, whichever that was; resume takes the newest
    assert [p.name for p in list_checkpoints(run / "checkpoints")] == ["epoch_003.pt"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.pt", "epoch_003.pt"]
    kept = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert kept["epoch"] == best.epoch(rows)
    assert load_latest(run / "checkpoints")[0]["epoch"] == 3
    # the final epoch's morph of each method: a GIF in the run folder, logged once as a video of that file
    videos = [(k, v) for row in history(log) for k, v in row.items() if k.startswith("interpolation_morph/")]
    assert sorted(k for k, _ in videos) == ["interpolation_morph/lerp", "interpolation_morph/slerp"]
    for key, video in videos:
        method = key.split("/")[1]
        gif = run / "interpolation" / f"epoch_003_{method}.gif"
        assert video["_type"] == "video-file" and video["caption"] == f"{method}, epoch 3", video
        (copied,) = run.glob(f"wandb/offline-run-*/files/{video['path']}")
        assert copied.read_bytes() == gif.read_bytes() and gif.read_bytes()[:6] == b"GIF89a"
    assert not list((run / "interpolation").glob("epoch_00[12]_*.gif"))  # the final epoch's only


def test_under_wandb_agent_the_sweeps_metric_is_read_from_the_server(monkeypatch, capsys):
    """`wandb agent` passes only WANDB_SWEEP_ID: the sweep's `metric:` comes from the server's copy of
    the sweep; a server that cannot say leaves the study's metric, with one note."""
    monkeypatch.delenv("GENLAT_SWEEP_METRIC", raising=False)
    monkeypatch.setenv("WANDB_SWEEP_ID", "swp00002")
    asked = []

    class Api:
        def __init__(self, timeout=None):
            pass

        def sweep(self, path):
            asked.append(path)
            if path.startswith("broken/"):
                raise ValueError("Could not find sweep")
            return types.SimpleNamespace(config={"metric": {"name": "eval/recall", "goal": "maximize"}})

    tracker = types.SimpleNamespace(mode="online", wandb=types.SimpleNamespace(Api=Api))
    run = types.SimpleNamespace(entity="me", project="genlat")
    assert Tracker.sweep_best(tracker, run) == Best("eval/recall", "maximize")
    assert asked == ["me/genlat/swp00002"]
    assert Tracker.sweep_best(tracker, types.SimpleNamespace(entity="broken", project="p")) == Best()
    (line,) = capsys.readouterr().err.splitlines()
    assert "cannot read the metric of sweep swp00002 (Could not find sweep); best means eval/fd, minimized" in line
    tracker.mode = "offline"  # no server to ask
    assert Tracker.sweep_best(tracker, run) == Best() and len(asked) == 2
    monkeypatch.setenv("GENLAT_SWEEP_METRIC", '{"name": "epoch/loss_g", "goal": "minimize"}')  # genlat sweep's
    assert Tracker.sweep_best(tracker, run) == Best("epoch/loss_g")


def test_logged_in_only_by_wandb_login_host_a_run_logs_online_as_wandb_expects(wandb_server, tmp_path, monkeypatch):
    """`wandb login --host http://127.0.0.1:PORT KEY` and nothing in the environment: before, genlat
    looked the netrc up by host name alone and the URL up in the environment alone, so the run
    logged offline without a word. Now it logs to that server, says where at its start, and the
    server gets the job type, the tags, the experiment's config and the best FD in the summary."""
    for name in ("WANDB_API_KEY", "WANDB_BASE_URL", "WANDB_MODE"):
        monkeypatch.delenv(name)
    login = subprocess.run(
        [WANDB, "login", "--host", wandb_server.url, wandb_server.api_key],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert login.returncode == 0, login.stderr[-2000:]
    train = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *TINY, "--epochs", "2", "--out", str(tmp_path / "runs")],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    run_dir = only_run(tmp_path / "runs")
    run_id = json.loads((run_dir / "config.json").read_text())["wandb_id"]
    lines = train.stderr.splitlines()
    url = f"W&B run {wandb_server.url}/{wandb_server.store.entity}/genlat/runs/{run_id}"
    assert lines.index(url) < next(i for i, ln in enumerate(lines) if ln.startswith("epoch 1/2  ")), train.stderr[
        -3000:
    ]
    assert not list(run_dir.glob("wandb/offline-run-*"))
    run = wandb_server.store.runs[(wandb_server.store.entity, "genlat", run_id)]
    assert run.state == "finished" and run.job_type == "train" and run.tags == ["dcgan", "shapes"]
    assert not set(run.config) & set(BOOKKEEPING) and run.config["zn"] == 8
    assert run.summary["eval/fd"] == {"min": Best().value(metrics_rows(run_dir))}
    video = run.summary["interpolation_morph/slerp"]  # the morph's GIF, uploaded as the run's file
    assert video["_type"] == "video-file" and video["path"] in run.files, (video, sorted(run.files))
    gif = (run_dir / "interpolation" / "epoch_002_slerp.gif").read_bytes()
    assert wandb_server.store.blobs[run.files[video["path"]]] == gif
