"""Every file genlat reads back goes through one validation per format (genlat.records, and
genlat.checkpoint for checkpoints): a file that parses but is not what genlat wrote -- a checkpoint
that is a list or has no `g`, a config.json of the wrong types, a FIFO where metrics.jsonl belongs --
is a named problem (one line, or a checkpoint skipped with a warning), never a traceback or a hang;
a value config.json holds is blamed on config.json, not on a flag; a rerun with nothing to do leaves
no run listed as running."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genlat.checkpoint import checkpoint_problem, load_latest
from genlat.cli import eval_main, train_main
from genlat.config import TrainConfig
from genlat.errors import EXIT_OK, EXIT_OUTPUT
from genlat.records import Damaged, read_config, read_metrics, read_status
from genlat.trainers import checkpoint_shapes
from tests.finished import RUN_ARGS, copy, finished_run
from tests.helpers import ROOT, child_env, epochs
from tests.wandb_log import history, the_log

NO_EVAL = ["--eval_every", "0"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    return finished_run(tmp_path_factory)


@pytest.fixture
def run(finished, tmp_path) -> Path:
    return copy(finished, tmp_path / "runs" / finished.name)


def _args(run: Path, *extra: str) -> list[str]:
    return [*RUN_ARGS, "--out", str(run.parent), *NO_EVAL, *extra]


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("genlat: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _good(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "epoch_002.pt", weights_only=True)


BAD_CHECKPOINTS = {
    "a list": lambda good: [1, 2, 3],
    "no epoch": lambda good: {k: v for k, v in good.items() if k != "epoch"},
    "a string epoch": lambda good: {**good, "epoch": "two"},
    "no g": lambda good: {k: v for k, v in good.items() if k != "g"},
    "g of another network": lambda good: {**good, "g": {"net.0.weight": torch.zeros(3, 3)}},
    "another epoch": lambda good: {**good, "epoch": 7},
    "a config of the wrong types": lambda good: {**good, "config": {**good["config"], "zn": "8"}},
    "an identity of the wrong types": lambda good: {**good, "identity": {"world_size": "2"}},
}


@pytest.mark.parametrize("damage", sorted(BAD_CHECKPOINTS))
def test_a_checkpoint_that_loads_but_is_not_one_is_skipped(run, damage):
    shapes = checkpoint_shapes(TrainConfig.from_dict(_good(run)["config"]), 1)
    bad = BAD_CHECKPOINTS[damage](_good(run))
    assert checkpoint_problem(bad, shapes, epoch=2)  # named ...
    torch.save(bad, run / "checkpoints" / "epoch_002.pt")
    state, skipped = load_latest(run / "checkpoints", shapes)
    assert state["epoch"] == 1 and len(skipped) == 1 and skipped[0].startswith("epoch_002.pt: ")  # ... and skipped


@pytest.mark.parametrize("damage", ["a list", "no g", "a string epoch"])
def test_train_and_eval_fall_back_from_a_checkpoint_of_the_wrong_shape(run, capsys, damage):
    torch.save(BAD_CHECKPOINTS[damage](_good(run)), run / "checkpoints" / "epoch_002.pt")
    before = (run / "metrics.jsonl").read_bytes()
    assert eval_main([str(run), "--samples", "16"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "skipped an unreadable checkpoint: epoch_002.pt" in err and "Traceback" not in err
    assert train_main(_args(run)) == EXIT_OK  # epoch 2 replayed from epoch 1's checkpoint: nothing lost
    err = capsys.readouterr().err
    assert "skipped an unreadable checkpoint: epoch_002.pt" in err and "after epoch 1" in err
    assert epochs(run) == [1, 2] and (run / "metrics.jsonl").read_bytes().splitlines()[0] == before.splitlines()[0]
    assert torch.load(run / "checkpoints" / "epoch_002.pt", weights_only=True)["epoch"] == 2


def test_eval_blames_config_json_not_a_flag(run, capsys):
    record = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**record, "zn": 0}))
    assert eval_main([str(run)]) == EXIT_OUTPUT
    line = _one_line(capsys)
    assert f"{run / 'config.json'} says zn=0: must be a positive integer" in line and "--zn" not in line


@pytest.mark.parametrize("text, why", [
    ('{"zn": "8"}', "zn is a string"), ('{"lr": [1]}', "lr is a list"), ('{"cpu": "yes"}', "cpu is a string"),
    ('{"wandb_id": 7}', "wandb_id is an integer"), ('{"beta": NaN}', "beta is nan"), ("[]", "a list, not an object"),
])  # fmt: skip
def test_a_config_json_of_the_wrong_types_is_one_line_for_train_and_eval(run, capsys, text, why):
    (run / "config.json").write_text(text)
    with pytest.raises(Damaged, match=why):
        read_config(run / "config.json")
    assert train_main(_args(run, "--epochs", "3")) == EXIT_OUTPUT
    assert "config.json is damaged" in _one_line(capsys)
    assert eval_main([str(run)]) == EXIT_OUTPUT
    assert "config.json is damaged" in _one_line(capsys)


@pytest.mark.parametrize("text, why", [
    ('{"state": "sleeping", "epoch": 2}', "state is 'sleeping'"),
    ('{"state": "finished", "epoch": "2"}', "epoch is '2'"),
    ('{"state": "finished"}', "epoch is None"), ('"finished"', "a string, not an object"),
])  # fmt: skip
def test_a_status_json_of_the_wrong_shape_is_damage(run, text, why):
    (run / "status.json").write_text(text)
    with pytest.raises(Damaged, match=why):
        read_status(run / "status.json")


@pytest.mark.parametrize("name", ["metrics.jsonl", "config.json", "checkpoints/epoch_002.pt"])
def test_a_fifo_where_a_file_belongs_is_damage_not_a_hang(run, name):
    """Reading a FIFO blocks until someone writes to it: genlat reads regular files only. In a child
    process with a timeout, so a hang fails this test instead of the suite."""
    path = run / name
    path.unlink()
    os.mkfifo(path)
    proc = subprocess.run([sys.executable, "train.py", *_args(run, "--epochs", "3")], cwd=ROOT, env=child_env(
        WANDB_MODE="disabled"), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == EXIT_OUTPUT and "not a regular file" in proc.stderr, proc.stderr
    assert name == "metrics.jsonl" or epochs(run) == [1, 2]
    if name == "metrics.jsonl":
        with pytest.raises(Damaged, match="not a regular file"):
            read_metrics(path)


def test_a_nothing_to_do_rerun_settles_a_stale_running_status(run, capsys, tmp_path):
    """A kill between the last checkpoint and its status.json left `running`: the rerun that finds
    nothing to train says finished, and the report then compares the run without naming it a problem."""
    (run / "status.json").write_text(json.dumps({"state": "running", "epoch": 1}))
    assert train_main(_args(run)) == EXIT_OK
    assert json.loads((run / "status.json").read_text()) == {"state": "finished", "epoch": 2}
    assert "nothing to do" in capsys.readouterr().err
    from analysis.report import main as report_main

    assert report_main(["--runs", str(run), "--out", str(tmp_path / "report")]) == EXIT_OK
    assert "1 runs, 0 problem(s) named" in capsys.readouterr().out
    (run / "status.json").write_text(json.dumps({"state": "preempted", "epoch": 2}))
    assert train_main(_args(run, "--epochs", "1")) == EXIT_OK  # below the run's own 2 epochs: still done
    assert json.loads((run / "status.json").read_text())["state"] == "finished"


@pytest.mark.parametrize("damage", ["garbage", "a path out of the folder"])
def test_a_damaged_png_of_a_kept_epoch_is_left_out_of_the_final_tables(run, capsys, damage):
    """The final W&B tables are rebuilt from the run folder's PNGs at the end of a run: one damaged
    PNG of an earlier epoch crashed the run after it had trained (or hung it, as a FIFO)."""
    png = run / "samples" / "epoch_001.png"
    if damage == "a path out of the folder":
        lines = (run / "metrics.jsonl").read_text().splitlines()
        lines[0] = json.dumps({**json.loads(lines[0]), "sample_grid": "../../../outside.png"})
        (run / "metrics.jsonl").write_text("".join(line + "\n" for line in lines))
    else:
        png.write_bytes(b"not a png")
    assert train_main(_args(run, "--epochs", "3")) == EXIT_OK
    err = capsys.readouterr().err
    assert "left out of the final W&B tables" in err and "Traceback" not in err
    assert epochs(run) == [1, 2, 3]


@pytest.mark.parametrize("damage", ["garbage", "a folder"])
def test_a_damaged_final_panel_leaves_its_morph_out_not_the_run(run, capsys, monkeypatch, damage):
    """The morph GIFs are made at the end of a run from the final epoch's panels: a panel that does not
    decode (or is a folder) is left out with a warning, the run ends well and the other method's morph is
    written and logged."""
    from genlat import run as run_module

    final = run / "interpolation" / "epoch_003_slerp.png"

    def save_png(array, path):
        real_save_png(array, path)
        if path == final:  # as a disk error or another program would leave it
            path.unlink()
            path.write_bytes(b"not a png") if damage == "garbage" else path.mkdir()

    real_save_png = run_module.save_png
    monkeypatch.setattr(run_module, "save_png", save_png)
    assert train_main(_args(run, "--epochs", "3")) == EXIT_OK
    err = capsys.readouterr().err
    assert f"[warning] {final}: " in err and "left out of the final W&B tables" in err and "Traceback" not in err
    assert sorted(p.name for p in (run / "interpolation").glob("*.gif")) == ["epoch_002_lerp.gif",
                                                                           "epoch_002_slerp.gif", "epoch_003_lerp.gif"]  # fmt: skip
    logged = {k for row in history(the_log(run)) for k in row if k.startswith("interpolation_morph/")}
    assert logged == {"interpolation_morph/lerp"}


@pytest.mark.parametrize("name", ["checkpoints/epoch_002.pt", "checkpoints/best.pt", "samples/epoch_002.png",
                                  "interpolation/epoch_002_slerp.png", "interpolation/epoch_002_slerp.gif",
                                  "samples"])  # fmt: skip
def test_a_folder_where_genlat_writes_a_file_is_refused_before_anything_is_written(run, capsys, name):
    """A folder at epoch_002.pt: the resume dropped epoch 2's line to replay it, trained, then could
    not write the checkpoint (exit 4 with the line gone). Now the folder is refused up front."""
    path = run / name
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    path.touch() if name == "samples" else path.mkdir()
    before = (run / "metrics.jsonl").read_bytes()
    assert train_main(_args(run, "--epochs", "3")) == EXIT_OUTPUT
    line = _one_line(capsys)
    assert str(path) in line and ("not a regular file" in line or "not a folder" in line)
    assert (run / "metrics.jsonl").read_bytes() == before


@pytest.mark.parametrize("change", ["precision, config.json gone", "process count", "process count, config.json gone"])
def test_a_resume_that_would_change_the_computation_is_refused(run, capsys, change):
    """The checkpoint records the precision the run resolved and its process count: with config.json
    gone, `--mixed_precision no` resumed a bf16 run in fp32; a 2-process run resumed by 1 process
    doubled its steps per epoch. Both now stop before anything is written (exit 4)."""
    key, value = ("mixed_precision_resolved", "bf16") if change.startswith("precision") else ("world_size", 2)
    for name in ("epoch_001.pt", "epoch_002.pt"):
        path = run / "checkpoints" / name
        state = torch.load(path, weights_only=True)
        assert state["identity"][key] != value  # what this run recorded itself
        torch.save({**state, "identity": {**state["identity"], key: value}}, path)
    if "config.json gone" in change:
        (run / "config.json").unlink()
    else:
        (run / "config.json").write_text(json.dumps({**json.loads((run / "config.json").read_text()), key: value}))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert train_main(_args(run, "--epochs", "3", "--mixed_precision", "no")) == EXIT_OUTPUT
    line = _one_line(capsys)
    assert ("mixed precision bf16" in line) if key == "mixed_precision_resolved" else ("by 2 process(es)" in line)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name != ".lock"} == {
        p: b for p, b in before.items() if p.name != ".lock"
    }
