"""The local W&B server (tests/wandb_server) against the real, unpatched wandb client: a run logged
online in a child process (scalars, an image, a table of images, summary, define_metric, finish,
fail, preempt, resume, stop), read back through wandb.Api (runs and their filters, config,
summary, history, files, the table's artifact and its images), `wandb sync` of an offline run,
`wandb login --host`, and an unknown operation failing by name."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import child_env, wait_for
from tests.wandb_server import LocalWandbServer
from tests.wandb_server.store import ServerRun

PROJECT = "genlat-wandb-server"
WANDB = str(Path(sys.executable).parent / "wandb")  # the CLI, as a user runs it

# One trial as genlat logs it: config, group, job type, tags, a display name; per epoch scalars
# (epoch/loss summarised by its minimum) and a row of an INCREMENTAL table; then the sample grid,
# a table of interpolation panels and a summary value. It prints what the client saw on start (a resume's step,
# config, summary).
CHILD = r"""
import json, os, sys, time, wandb
from genlat.interrupts import take_back_sigint
run_id, mode, first, png_a, png_b = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
take_back_sigint()  # as train.py does: a test run started in the background inherits SIGINT ignored


def main():
    # the file stream sends every second (whole seconds: wandb-core truncates), not every 15
    run = wandb.init(project=__PROJECT__, id=run_id, resume="allow", name="trial-" + run_id, group="zn-8",
                     job_type="train", tags=["study"], config={"zn": 8, "lr": 0.0002},
                     settings=wandb.Settings(init_timeout=60, silent=True, console="off",
                                             x_file_stream_transmit_interval=1))
    print(json.dumps({"resumed": run.resumed, "step": run.starting_step, "config": dict(run.config),
                      "summary": {k: v for k, v in dict(run.summary).items() if not k.startswith("_")}},
                     default=dict), flush=True)
    run.define_metric("epoch/loss", summary="min")
    live = wandb.Table(columns=["epoch", "panel"], log_mode="INCREMENTAL")  # genlat's *_live tables
    for epoch in range(first, first + 3):
        row = {"epoch": epoch, "epoch/loss": 1.0 / (epoch + 1)}
        if mode == "full":
            live.add_data(epoch, wandb.Image(png_a if epoch % 2 else png_b))
            row["live"] = live
        run.log(row)
    if mode == "full":
        run.log({"epoch": first + 2, "samples": wandb.Image(png_a, caption="epoch 2")})
        panels = [[first + 2, "slerp", 0, wandb.Image(png_a)], [first + 2, "slerp", 1, wandb.Image(png_b)]]
        run.log({"interpolation": wandb.Table(columns=["epoch", "method", "pair", "panel"], data=panels)})
        run.summary["eval/fd"] = 12.5
    if mode == "stop":  # go on logging until the server's stop request interrupts the main thread
        for i in range(600):
            run.log({"epoch": first + 3 + i})
            time.sleep(0.1)
    if mode == "preempt-kill":  # hold (the stream open) until the test says go
        while not os.path.exists(os.environ["GO_FILE"]):
            time.sleep(0.05)
    if mode.startswith("preempt"):
        run.mark_preempting()
    if mode == "preempt-kill":  # the scheduler takes the machine: no finish, the stream goes silent
        print("MARKED", flush=True)
        time.sleep(120)
    run.finish(exit_code=1 if mode == "fail" else 75 if mode == "preempt" else 0)  # genlat's preempted exit: 75


try:
    main()
except KeyboardInterrupt:  # how wandb stops a script: its stop checker interrupts the main thread
    print("STOPPED", flush=True)
""".replace("__PROJECT__", repr(PROJECT))


@pytest.fixture
def pngs(tmp_path) -> tuple[Path, Path]:
    """Two different 16x16 RGB pictures (the table's panels must come back distinct)."""
    rng = np.random.default_rng(0)
    paths = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.png"
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths[0], paths[1]


def run_child(
    server: LocalWandbServer,
    tmp_path: Path,
    pngs,
    run_id: str,
    mode: str = "full",
    first: int = 0,
    env: dict[str, str] | None = None,
) -> dict:
    """The CHILD script in its own process, logging to `server` (by default online, with its URL and
    key in the environment); what it printed on start."""
    env = {**(server.env() if env is None else env), "WANDB_DATA_DIR": str(tmp_path / "wandb-data")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, run_id, mode, str(first), str(pngs[0]), str(pngs[1])],
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[0])


def server_run(server: LocalWandbServer, run_id: str) -> ServerRun:
    return server.store.runs[(server.store.entity, PROJECT, run_id)]


def test_online_run_is_stored_as_logged(wandb_server, tmp_path, pngs):
    started = run_child(wandb_server, tmp_path, pngs, "trial1")
    assert not started["resumed"] and started["step"] == 0
    run = server_run(wandb_server, "trial1")
    assert run.state == "finished" and run.exitcode == 0
    assert (run.display_name, run.group, run.job_type, run.tags) == ("trial-trial1", "zn-8", "train", ["study"])
    assert {k: run.config[k] for k in ("zn", "lr")} == {"zn": 8, "lr": 0.0002}
    # every history line once, in order: 3 epochs, the grid, the table
    assert [row["_step"] for row in run.history] == [0, 1, 2, 3, 4]
    assert [row.get("epoch/loss") for row in run.history[:3]] == [1.0, 0.5, 1 / 3]
    assert run.history[3]["samples"]["_type"] == "image-file"
    assert run.summary["epoch/loss"] == {"min": 1 / 3} and run.summary["eval/fd"] == 12.5
    # the grid was uploaded as a run file; the table is the artifact run-<id>-interpolation
    grid = run.history[3]["samples"]["path"]
    assert wandb_server.store.blobs[run.files[grid]] == pngs[0].read_bytes()
    (table,) = [a for a in wandb_server.store.artifacts.values() if a.collection == "run-trial1-interpolation"]
    assert (table.state, table.type, table.aliases) == ("COMMITTED", "run_table", {"latest"})


def test_api_reads_the_run_back_with_the_tables_images(wandb_server, tmp_path, pngs):
    import wandb

    run_child(wandb_server, tmp_path, pngs, "trial2")
    api = wandb.Api(timeout=30)
    assert api.default_entity == wandb_server.store.entity
    path = f"{api.default_entity}/{PROJECT}"
    run = api.run(f"{path}/trial2")
    assert (run.state, run.group, run.job_type, run.tags, run.name) == (
        "finished",
        "zn-8",
        "train",
        ["study"],
        "trial-trial2",
    )
    assert run.config == {"zn": 8, "lr": 0.0002} and run.sweep is None
    assert run.summary["eval/fd"] == 12.5 and run.summary["epoch/loss"]["min"] == pytest.approx(1 / 3)
    rows = list(run.scan_history())
    assert [r["_step"] for r in rows] == [0, 1, 2, 3, 4] and rows[1]["epoch/loss"] == 0.5
    assert [r["_step"] for r in run.history(pandas=False)] == [0, 1, 2, 3, 4]
    assert [r["epoch/loss"] for r in run.history(keys=["epoch/loss"], pandas=False)] == [1.0, 0.5, 1 / 3]
    # the grid, downloaded as analysis/load/wandb.py does
    grid = rows[3]["samples"]["path"]
    assert grid in {f.name for f in run.files()}
    run.file(grid).download(root=str(tmp_path / "dl"), replace=True, exist_ok=True)
    assert (tmp_path / "dl" / grid).read_bytes() == pngs[0].read_bytes()
    # the table, through its artifact: its panels are the pictures logged, in order
    assert sorted(a.name for a in run.logged_artifacts()) == [
        *(f"run-trial2-incr-live:v{i}" for i in range(3)),
        "run-trial2-interpolation:v0",
    ]
    artifact = api.artifact(f"{path}/run-trial2-interpolation:latest")
    table = artifact.get("interpolation")
    assert table.columns == ["epoch", "method", "pair", "panel"]
    assert [row[:3] for row in table.data] == [[2, "slerp", 0], [2, "slerp", 1]]
    panels = [np.asarray(row[3].image.convert("RGB")) for row in table.data]
    assert [p.tolist() for p in panels] == [np.asarray(Image.open(p)).tolist() for p in pngs]
    folder = Path(artifact.download(root=str(tmp_path / "artifact")))
    assert json.loads((folder / "interpolation.table.json").read_text())["columns"] == table.columns
    # the INCREMENTAL table: each version adds its increment to the one before, as W&B's server serves it
    live = api.artifact(f"{path}/run-trial2-incr-live:latest")
    assert live.version == "v2" and len([n for n in live.manifest.entries if n.endswith(".live.table.json")]) == 3


def test_api_runs_filters_on_sweep_group_state_and_config(wandb_server, tmp_path, pngs):
    import wandb

    # as `wandb agent` starts a trial: the sweep, run id and project in the environment (init's are ignored)
    agent = {"WANDB_SWEEP_ID": "swA", "WANDB_RUN_ID": "trial3", "WANDB_PROJECT": PROJECT}
    run_child(wandb_server, tmp_path, pngs, "trial3", mode="fail", env={**wandb_server.env(), **agent})
    store = wandb_server.store
    assert server_run(wandb_server, "trial3").sweep == "swA"  # the upsert carried the agent's sweep id
    other = store.run(store.entity, PROJECT, "other")  # another trial, as a sweep's agent would have left it
    other.config, other.state, other.group, other.sweep = {"zn": 16, "lr": 0.0002}, "finished", "zn-16", "sw1"
    api = wandb.Api(timeout=30)
    path = f"{store.entity}/{PROJECT}"

    def ids(**filters) -> list[str]:
        return sorted(r.id for r in api.runs(path, filters=filters))

    assert ids() == ["other", "trial3"]
    assert server_run(wandb_server, "trial3").state == "failed"  # finish(exit_code=1)
    assert ids(state="failed") == ["trial3"] and ids(state="finished") == ["other"]
    assert ids(group="zn-16") == ["other"] and ids(sweep="sw1") == ["other"] and ids(sweep="swA") == ["trial3"]
    assert ids(**{"config.zn": 8}) == ["trial3"] and ids(**{"config.zn.value": {"$gt": 8}}) == ["other"]
    assert ids(**{"$or": [{"config.zn": 8}, {"sweep": "sw1"}]}) == ["other", "trial3"]
    assert ids(**{"config.lr": 0.0002, "state": "finished"}) == ["other"]


def test_resume_appends_history_once_and_gives_back_step_config_summary(wandb_server, tmp_path, pngs):
    run_child(wandb_server, tmp_path, pngs, "trial4", mode="scalars")
    again = run_child(wandb_server, tmp_path, pngs, "trial4", mode="scalars", first=3)
    assert again["resumed"] and again["step"] == 3
    assert again["config"] == {"zn": 8, "lr": 0.0002} and again["summary"]["epoch/loss"] == {"min": 1 / 3}
    run = server_run(wandb_server, "trial4")
    assert run.upserts >= 2 and run.state == "finished"
    assert [(r["_step"], r["epoch"]) for r in run.history] == [(i, i) for i in range(6)]
    assert run.summary["epoch/loss"] == {"min": 1 / 6}


def test_mark_preempting_then_exit_is_preempted(wandb_server, tmp_path, pngs):
    run_child(wandb_server, tmp_path, pngs, "trial5", mode="preempt")
    assert server_run(wandb_server, "trial5").state == "preempted"


def test_running_then_preempting_run_whose_stream_goes_silent_is_preempted(wandb_server, tmp_path, pngs):
    import wandb

    go = tmp_path / "go"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, "trial9", "preempt-kill", "0", str(pngs[0]), str(pngs[1])],
        env=child_env(**wandb_server.env(), GO_FILE=str(go)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        # while its stream is open (its 3 epochs arrived) the run is running; then it says preempting
        wait_for(
            lambda: (
                "trial9" in {k[2] for k in wandb_server.store.runs}
                and len(server_run(wandb_server, "trial9").history) == 3
            ),
            timeout=60,
            what="3 epochs",
        )
        assert server_run(wandb_server, "trial9").state == "running"
        go.touch()
        wait_for(
            lambda: (
                "trial9" in {k[2] for k in wandb_server.store.runs}
                and server_run(wandb_server, "trial9").state == "preempting"
            ),
            timeout=60,
            what="preempting",
        )
    finally:
        child.kill()  # SIGKILL: nothing more is sent
        child.communicate(timeout=30)
    run = wandb.Api(timeout=30).run(f"{wandb_server.store.entity}/{PROJECT}/trial9")
    assert run.state == "preempting"  # not silent for long enough yet
    wandb_server.store.silent_after_s = 0.5
    time.sleep(0.6)
    run.load(force=True)
    assert run.state == "preempted"


def test_stop_request_reaches_the_run(wandb_server, tmp_path, pngs):
    # the server answers every file-stream request with `stopped`; wandb's stop checker asks at the
    # start and then every 15 s, so the request waits there before the run starts (a fast test)
    wandb_server.store.run(wandb_server.store.entity, PROJECT, "trial6").stop_requested = True
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "trial6", "stop", "0", str(pngs[0]), str(pngs[1])],
        env=child_env(**wandb_server.env()),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert "STOPPED" in done.stdout, done.stderr[-3000:]
    assert server_run(wandb_server, "trial6").state == "killed"


def test_wandb_sync_uploads_an_offline_run(wandb_server, tmp_path, pngs):
    run_child(wandb_server, tmp_path, pngs, "trial7", env={"WANDB_MODE": "offline", "WANDB_API_KEY": ""})
    (folder,) = (tmp_path / "wandb-home" / "wandb").glob("offline-run-*-trial7")
    assert "trial7" not in {k[2] for k in wandb_server.store.runs}  # nothing went online
    done = subprocess.run(
        [WANDB, "sync", str(folder)],
        env=child_env(**wandb_server.env()),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run = server_run(wandb_server, "trial7")
    assert run.state == "finished" and run.config["zn"] == 8
    assert [r["_step"] for r in run.history] == [0, 1, 2, 3, 4] and run.summary["eval/fd"] == 12.5
    assert any(
        a.collection == "run-trial7-interpolation" and a.state == "COMMITTED"
        for a in wandb_server.store.artifacts.values()
    )


def test_login_host_checks_the_key_then_an_online_run_works(wandb_server, tmp_path, pngs, monkeypatch):
    """`wandb login --host URL KEY` asks the server who the key belongs to (Viewer) and keeps the
    host (settings) and the key (netrc) only when it is accepted; a run then needs no environment."""
    for name in ("WANDB_API_KEY", "WANDB_BASE_URL", "WANDB_MODE"):
        monkeypatch.delenv(name)
    netrc = Path(os.environ["NETRC"])

    def login(key: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [WANDB, "login", "--host", wandb_server.url, key],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
        )

    refused = login("wrong" + "0" * 35)
    assert refused.returncode != 0 and not (netrc.exists() and wandb_server.host in netrc.read_text())
    accepted = login(wandb_server.api_key)
    assert accepted.returncode == 0, accepted.stderr[-2000:]
    assert wandb_server.store.calls == ["Viewer"]  # what login verifies (the wrong key got a 401 before it)
    assert f"machine {wandb_server.host}" in netrc.read_text() and wandb_server.api_key in netrc.read_text()
    run_child(wandb_server, tmp_path, pngs, "trial8", mode="scalars", env={"WANDB_MODE": "online"})
    assert server_run(wandb_server, "trial8").state == "finished"


def test_unknown_operation_fails_by_name():
    server = LocalWandbServer().start()
    try:
        body = json.dumps({"query": "query NoSuchOperation { viewer { id } }"}).encode()
        key = base64.b64encode(f"api:{server.api_key}".encode()).decode()
        request = urllib.request.Request(
            f"{server.url}/graphql",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Basic {key}"},
        )
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=10)
        assert answer.value.code == 400 and b"NoSuchOperation" in answer.value.read()
    finally:
        server.stop()
    with pytest.raises(AssertionError, match="NoSuchOperation"):
        server.check()
