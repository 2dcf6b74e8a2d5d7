"""What `genlat report` reads is validated before it is used: a PNG a run folder holds that the
report would embed (unreadable, truncated, gigantic, a folder, a FIFO) makes that run a named problem,
left out, while the others are reported; NaN and infinite metrics are "not measured", never a
traceback in the statistics; `--wandb` with a wrong key or no network is one line, exit 69."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from analysis.report import main as report_main
from tests.helpers import free_port

GRID = 2 + 4 * (8 + 2)  # genlat/images.py: 4 tiles of 8 px a row, 2 px apart


def _run(root: Path, zn: int, seed: int, lines: list[dict] | None = None) -> Path:
    d = root / f"zn{zn}-s{seed}"
    (d / "samples").mkdir(parents=True)
    config = {"zn": zn, "seed": seed, "run_name": d.name, "epochs": 2, "grid_nrow": 4}
    (d / "config.json").write_text(json.dumps(config))
    lines = lines or [{"epoch": e, "eval/fd": 100 / e + zn + seed, "eval/precision": 0.5} for e in (1, 2)]
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    (d / "status.json").write_text(json.dumps({"state": "finished", "epoch": 2}))
    for e in (1, 2):
        Image.new("L", (GRID, GRID), 40 * e).save(d / "samples" / f"epoch_{e:03d}.png")
    return d


@pytest.fixture
def runs(tmp_path) -> Path:
    root = tmp_path / "runs"
    for zn, seed in [(8, 0), (8, 1), (16, 0), (16, 1)]:
        _run(root, zn, seed)
    return root


def _huge_png(path: Path) -> None:
    """A PNG whose header says 30000 x 30000: what genlat never draws (and PIL would decode for minutes)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 30001)) + chunk(b"IEND", b""))  # fmt: skip


DAMAGED_PNGS = {
    "unreadable": lambda p: p.write_bytes(os.urandom(200)),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "gigantic": _huge_png,
    "a folder": lambda p: (p.unlink(), p.mkdir()),
    "a FIFO": lambda p: (p.unlink(), os.mkfifo(p)),
}


@pytest.mark.parametrize("damage", sorted(DAMAGED_PNGS))
def test_a_damaged_png_names_its_run_and_the_rest_are_reported(runs, tmp_path, capsys, damage):
    png = runs / "zn16-s1" / "samples" / "epoch_002.png"
    DAMAGED_PNGS[damage](png)
    out = tmp_path / "out"
    t0 = time.monotonic()
    assert report_main([str(runs), "--out", str(out)]) == 0
    assert time.monotonic() - t0 < 120
    captured = capsys.readouterr()
    assert "3 runs, 1 problem(s) named" in captured.out and "Traceback" not in captured.err
    html = (out / "report.html").read_text()
    assert "zn16-s1" in html and "samples/epoch_002.png" in html


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_metrics_do_not_sink_the_report(runs, tmp_path, capsys, value):
    path = runs / "zn16-s1" / "metrics.jsonl"
    path.write_text(path.read_text().replace('"eval/precision": 0.5}', f'"eval/precision": {value}}}'))
    assert report_main([str(runs), "--out", str(tmp_path / "out")]) == 0
    assert "4 runs, 0 problem(s) named" in capsys.readouterr().out


def test_report_wandb_with_a_wrong_key_is_one_line_exit_69(wandb_server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("WANDB_API_KEY", "wrong" + "0" * 35)
    assert report_main(["--wandb", "me/genlat", "--out", str(tmp_path / "r")]) == 69
    err = capsys.readouterr().err
    assert err.count("genlat: error:") == 1 and "Traceback" not in err and "W&B refused the login" in err


def test_report_wandb_with_no_network_is_one_line_exit_69_within_seconds(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    t0 = time.monotonic()
    assert report_main(["--wandb", "me/genlat", "--out", str(tmp_path / "r")]) == 69
    assert time.monotonic() - t0 < 20
    err = capsys.readouterr().err
    assert err.count("genlat: error:") == 1 and "Traceback" not in err and "cannot be reached" in err
