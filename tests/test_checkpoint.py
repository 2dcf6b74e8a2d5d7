"""Checkpoints: atomic, pruned, loaded safely, and a torn newest file falls back to the one before."""

import torch

from genlat.checkpoint import list_checkpoints, load_latest, save_checkpoint


def test_keep_last_n_and_load_latest(tmp_path):
    for epoch in range(1, 5):
        save_checkpoint(tmp_path, epoch, {"epoch": epoch, "w": torch.full((3,), float(epoch))}, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["epoch_003.pt", "epoch_004.pt"]
    state, skipped = load_latest(tmp_path)
    assert state["epoch"] == 4 and skipped == []
    assert not list(tmp_path.glob("*.tmp"))


def test_truncated_newest_falls_back(tmp_path):
    save_checkpoint(tmp_path, 1, {"epoch": 1}, keep=3)
    path = save_checkpoint(tmp_path, 2, {"epoch": 2, "w": torch.zeros(1000)}, keep=3)
    path.write_bytes(path.read_bytes()[:100])  # as if killed mid-write without the atomic rename
    state, skipped = load_latest(tmp_path)
    assert state["epoch"] == 1 and skipped and "epoch_002.pt" in skipped[0]


def test_pickled_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"epoch": 1, "x": Evil()}, tmp_path / "epoch_001.pt")
    state, skipped = load_latest(tmp_path)
    assert state is None and skipped


def test_best_pt_survives_rotation_and_resume_takes_the_newest(tmp_path):
    for epoch, best in [(1, True), (2, True), (3, False), (4, False)]:  # epoch 2 was the best
        save_checkpoint(tmp_path, epoch, {"epoch": epoch}, keep=1, best=best)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "epoch_004.pt"]
    assert torch.load(tmp_path / "best.pt", weights_only=True)["epoch"] == 2
    assert [p.name for p in list_checkpoints(tmp_path)] == ["epoch_004.pt"]  # best.pt is not a resume point
    assert load_latest(tmp_path)[0]["epoch"] == 4
