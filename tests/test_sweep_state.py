"""sweep.json through the `Sweep` and `Trial` dataclasses: the file keeps its exact format (a sweep
folder written by an older genlat reads and writes back byte for byte), a read-modify-write that
changes nothing writes nothing, and a damaged record is one line, never a traceback."""

import json

import pytest

from genlat.errors import OutputError
from genlat.sweep.state import Sweep, SweepState
from genlat.sweep.trial import Owner, Trial

# a sweep.json as genlat wrote it before sweeps had their own W&B group (no "group" key), one trial
# running on a host of its own, one finished; plus a key no genlat knows, which must survive
OLD = {
    "version": 1, "sweep_id": "ab12cd34", "name": "old", "file": "/somewhere/old.yaml", "fingerprint": "f" * 64,
    "method": "grid", "metric": {"name": "epoch/loss_g", "goal": "minimize"}, "created": "2026-11-23T10:00:00+00:00",
    "trials": [
        {"index": 0, "name": "t000-zn8", "id": "run00000", "params": {"zn": 8, "epochs": 2}, "search_info": None,
         "state": "running", "attempts": 1, "failures": 0, "exit_code": None, "error": "",
         "owner": {"host": "node-x", "pid": 4242, "pid_start": "1234567", "pgid": 4243}, "heartbeat": 1764000000.5,
         "started": "2026-11-23T10:00:01+00:00", "ended": None, "seconds": 0.0, "epoch": 1, "epochs": 2,
         "history": [{"epoch": 1, "epoch/loss_g": 1.5}], "best": 1.5, "synced": False},
        {"index": 1, "name": "t001-zn16", "id": "run00001", "params": {"zn": 16, "epochs": 2}, "search_info": {"x": 1},
         "state": "finished", "attempts": 2, "failures": 1, "exit_code": 0, "error": "", "owner": None,
         "heartbeat": None, "started": "2026-11-23T10:00:02+00:00", "ended": "2026-11-23T10:01:00+00:00",
         "seconds": 58.25, "epoch": 2, "epochs": 2, "history": [{"epoch": 1}, {"epoch": 2}], "best": None,
         "synced": True, "a_later_key": [1, 2]},
    ],
    "a_later_sweep_key": "kept",
}  # fmt: skip


def test_an_old_sweep_json_round_trips_exactly():
    sweep = Sweep.from_json(json.loads(json.dumps(OLD)))
    assert json.dumps(sweep.to_json()) == json.dumps(OLD)  # same keys, same order, same values
    assert sweep.wandb_group == "old"  # no group: the sweep's name, as before
    running, finished = sweep.trials
    assert isinstance(running.owner, Owner) and running.owner.pgid == 4243 and finished.owner is None
    assert finished.extra == {"a_later_key": [1, 2]}


def test_a_transaction_that_changes_nothing_writes_nothing(tmp_path):
    (tmp_path / "sweep.json").write_text(json.dumps(OLD, indent=1))
    before = (tmp_path / "sweep.json").stat()
    state = SweepState(tmp_path)
    with state.transaction() as sweep:
        assert [t.name for t in sweep.trials] == ["t000-zn8", "t001-zn16"]
    after = (tmp_path / "sweep.json").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    with state.transaction() as sweep:
        sweep.trial("t001-zn16").synced = False
    data = json.loads((tmp_path / "sweep.json").read_text())
    assert data["trials"][1]["synced"] is False and data["trials"][1]["a_later_key"] == [1, 2]
    assert data["a_later_sweep_key"] == "kept" and "group" not in data


def test_a_new_trial_has_every_key_of_the_format():
    t = Trial.new(3, {"zn": 8, "lr": 0.0002, "epochs": 4}, ["zn", "lr"], None)
    assert t.name == "t003-zn8-lr0.0002" and t.epochs == 4 and len(t.id) == 8
    assert list(t.to_json()) == list(OLD["trials"][0])  # the keys, in the file's order
    t.claim(Owner.me())
    assert t.state == "running" and t.attempts == 1 and t.owner.pgid is None and t.owner_alive()
    assert set(t.to_json()["owner"]) == {"host", "pid", "pid_start", "pgid"}


def test_an_empty_owner_is_no_owner_and_stays_as_it_was():
    record = {**OLD["trials"][1], "owner": {}}
    t = Trial.from_json(record)
    assert not t.owner_alive() and t.to_json() == record


def test_a_sweep_json_of_the_wrong_shape_is_one_line(tmp_path):
    bad = json.loads(json.dumps(OLD))
    bad["trials"][0]["attempts"] = "one"
    (tmp_path / "sweep.json").write_text(json.dumps(bad))
    with pytest.raises(OutputError, match="is damaged \\(trial 0: attempts is str 'one'\\)"):
        SweepState(tmp_path).load()
