"""The damage fuzzer: start from a finished run folder and a finished sweep folder, damage them at
random (truncate, delete, garbage, a folder or a FIFO where a file was, a link out of the folder, JSON
of the wrong types, a huge PNG), run what a user would run on them, and hold every command to the
invariants:

  1. it ends with an exit code from the README's table (never 1, the code of a bug)
  2. with no traceback (in-process: no exception escapes the entry point) and no hang
  3. nothing outside the folder changes (the links lead to files that must stay as they were)
  4. every intact epoch is kept: each epoch whose metrics line survived the damage still has one
     after `train`, and `eval`, `sweep --status` and `report` change nothing in the folder at all

A fixed, derandomised handful of examples runs in the default suite; `pytest -m slow` runs many more
(150 run-folder and 100 sweep-folder examples; GENLAT_FUZZ_EXAMPLES sets the first).
The commands run in-process with W&B disabled (a W&B run per example would cost seconds each)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from genlat.cli import eval_main, train_main
from genlat.sweep.cli import sweep_main
from tests.finished import QUIET_ENV, RUN_ARGS, finished_run, finished_sweep

EXIT_CODES = {0, 2, 3, 4, 5, 69, 75}  # README "Exit codes", less 1 (a bug)
HANG_S = 240  # one command on this 2-core machine takes seconds; far more is a hang
MANY = int(os.environ.get("GENLAT_FUZZ_EXAMPLES", "150"))  # -m slow: run-folder examples (the sweep's: 2/3 as many)
RUN_TARGETS = [
    "config.json",
    "metrics.jsonl",
    "status.json",
    ".lock",
    "checkpoints",
    "checkpoints/epoch_001.pt",
    "checkpoints/epoch_002.pt",
    "checkpoints/best.pt",
    "samples",
    "samples/epoch_001.png",
    "samples/epoch_002.png",
    "interpolation",
    "interpolation/epoch_002_slerp.png",
    "interpolation/epoch_002_lerp_pair0.png",
    "wandb",
]
SWEEP_TARGETS = ["sweep.json", "sweep.yaml", ".sweep.lock", "logs", "runs"] + [f"runs/T/{t}" for t in RUN_TARGETS]
DAMAGES = ["truncate", "delete", "garbage", "folder", "fifo", "link_out", "wrong_types", "huge_png"]
ODD_VALUES = [None, "x", "../../escape", [], {}, -1, 0, 2**70, 1e308, True, [1, [2]], {"epoch": 1}]


class Hung(Exception):
    pass


@contextlib.contextmanager
def watchdog(what: str):
    def fire(signum, frame):
        raise Hung(f"{what} still running after {HANG_S} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(HANG_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Damage:
    target: str
    kind: str
    seed: int

    def __str__(self) -> str:
        return f"{self.kind}({self.target}, {self.seed})"


damages = st.lists(
    st.builds(Damage, st.sampled_from(RUN_TARGETS), st.sampled_from(DAMAGES), st.integers(0, 2**16)),
    min_size=1,
    max_size=3,
)
sweep_damages = st.lists(
    st.builds(Damage, st.sampled_from(SWEEP_TARGETS), st.sampled_from(DAMAGES), st.integers(0, 2**16)),
    min_size=1,
    max_size=3,
)


# --- applying damage ----------------------------------------------------------------------------
def huge_png(width: int = 60000, height: int = 60000) -> bytes:
    """A small file whose header says it is a gigantic image (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\0" * (width + 1) * 4)  # a few rows; the decoder wants all of them
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _wrong_types(path: Path, rng: random.Random) -> None:
    odd = rng.choice(ODD_VALUES)
    if path.suffix == ".json":
        try:
            value = json.loads(path.read_text())
        except (OSError, ValueError):
            value = {}
        if isinstance(value, dict) and value:
            key = rng.choice(sorted(value))
            if key == "trials" and isinstance(value[key], list) and value[key] and rng.random() < 0.8:
                trial = rng.choice(value[key])
                if isinstance(trial, dict) and trial:
                    trial[rng.choice(sorted(trial))] = odd
            else:
                value[key] = odd
        else:
            value = odd
        path.write_text(json.dumps(value))
    elif path.suffix == ".jsonl":
        lines = path.read_text().splitlines() if path.is_file() else []
        if lines:
            i = rng.randrange(len(lines))
            row = json.loads(lines[i])
            row[rng.choice(sorted(row))] = odd
            lines[i] = json.dumps(row)
        path.write_text("".join(line + "\n" for line in lines))
    elif path.suffix == ".pt":
        try:
            state = torch.load(path, weights_only=True)
        except Exception:
            state = {}
        if isinstance(state, dict) and state and rng.random() < 0.7:
            key = rng.choice(sorted(state))
            if rng.random() < 0.5:
                del state[key]
            else:
                state[key] = odd
        else:
            state = odd
        torch.save(state, path)
    else:
        path.write_bytes(json.dumps(odd).encode())


def apply(root: Path, damage: Damage, outside: Path, trial: str = "") -> None:
    path = root / damage.target.replace("/T/", f"/{trial}/")
    rng = random.Random(damage.seed)
    for parent in path.relative_to(root).parents:  # an earlier damage replaced a folder above: moot (and
        if parent != Path(".") and (
            (root / parent).is_symlink() or not (root / parent).is_dir()
        ):  # never through a link)
            return
    kind = damage.kind
    if kind == "truncate":
        if path.is_dir() and not path.is_symlink():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
            path = rng.choice(files) if files else path
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            path.write_bytes(data[: rng.randrange(len(data) + 1)])
        return
    if kind == "wrong_types":
        if path.is_file() and not path.is_symlink():
            _wrong_types(path, rng)
        return
    _remove(path)
    if kind == "delete":
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "garbage":
        path.write_bytes(rng.randbytes(rng.randrange(1, 4096)))
    elif kind == "folder":
        path.mkdir()
        (path / "epoch_001.png").write_bytes(b"not ours")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link_out":
        target = outside / ("victim-dir" if rng.random() < 0.5 else "victim.txt")
        path.symlink_to(target)
    elif kind == "huge_png":
        path.write_bytes(huge_png())


# --- the invariants' evidence ---------------------------------------------------------------------
def snapshot(root: Path) -> dict[str, str]:
    """Every path below root with its kind and content hash (links are not followed)."""
    out = {}
    for p in sorted(root.rglob("*")):
        mode = os.lstat(p).st_mode
        rel = str(p.relative_to(root))
        if stat.S_ISLNK(mode):
            out[rel] = "link:" + os.readlink(p)
        elif stat.S_ISREG(mode):
            out[rel] = "file:" + hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[rel] = "dir" if stat.S_ISDIR(mode) else f"other:{stat.S_IFMT(mode)}"
    return out


def intact_epochs(run: Path) -> dict[int, str]:
    """Epoch -> its metrics line, for the lines that are whole objects with an integer epoch."""
    path = run / "metrics.jsonl"
    if path.is_symlink() or not path.is_file():
        return {}
    out = {}
    data = path.read_bytes()
    for line in data.split(b"\n")[:-1]:  # a last line without its newline is a torn write
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and type(row.get("epoch")) is int and row["epoch"] >= 1:
            out[row["epoch"]] = line.decode()
    return out


def make_outside(root: Path) -> Path:
    outside = root / "outside"
    (outside / "victim-dir").mkdir(parents=True)
    (outside / "victim.txt").write_text("the user's own file")
    for name in ("epoch_001.pt", ".x.tmp", "epoch_001.png", "config.json"):
        (outside / "victim-dir" / name).write_text("the user's own")
    return outside


def call(name: str, fn, argv: list[str], capsys) -> int:
    with watchdog(f"{name} {' '.join(argv)}"):
        code = fn(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out, f"{name}: {captured.err[-2000:]}"
    assert code in EXIT_CODES, f"{name} exited {code}: {captured.err[-2000:]}"
    return code


def report(argv: list[str]) -> int:
    from analysis.report import main

    return main(argv)


@pytest.fixture
def quiet(monkeypatch):
    for k, v in QUIET_ENV.items():
        monkeypatch.setenv(k, v)


# --- the run folder -------------------------------------------------------------------------------
def check_run(tmp: Path, template: Path, plan: list[Damage], capsys) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    outside = make_outside(tmp)
    run = Path(shutil.copytree(template, tmp / "runs" / template.name, symlinks=True))
    for d in plan:
        apply(run, d, outside)
    before_outside, intact = snapshot(outside), intact_epochs(run)
    code = call("train", train_main, [*RUN_ARGS, "--out", str(run.parent), "--eval_every", "0"], capsys)
    after = intact_epochs(run)
    if code == 0:
        assert set(intact) <= set(after), f"lost epochs {sorted(set(intact) - set(after))}"
    else:
        assert after == intact, "a refused train changed metrics.jsonl"
    folder = snapshot(run)
    call("eval", eval_main, [str(run), "--samples", "16"], capsys)
    call("report", report, ["--runs", str(run), "--out", str(tmp / "report")], capsys)
    assert snapshot(run) == folder, "eval or report changed the run folder"
    assert snapshot(outside) == before_outside, "something outside the run folder changed"
    assert {p.name for p in tmp.iterdir()} <= {"outside", "report", "runs"}
    assert sorted(p.name for p in (tmp / "runs").iterdir()) == [run.name]


# no shrinking: a plan is one to three damages already, and each example costs seconds
FUZZ = dict(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
    phases=[Phase.explicit, Phase.generate],
)


@settings(max_examples=4, derandomize=True, **FUZZ)
@given(plan=damages)
def test_a_damaged_run_folder_breaks_no_invariant(plan, tmp_path_factory, quiet, capsys):
    check_run(tmp_path_factory.getbasetemp() / "fuzz-run", finished_run(tmp_path_factory), plan, capsys)


@pytest.mark.slow
@settings(max_examples=MANY, **FUZZ)
@given(plan=damages)
def test_a_damaged_run_folder_breaks_no_invariant_many(plan, tmp_path_factory, quiet, capsys):
    check_run(tmp_path_factory.getbasetemp() / "fuzz-run-many", finished_run(tmp_path_factory), plan, capsys)


# --- the sweep folder -----------------------------------------------------------------------------
def check_sweep(tmp: Path, template: Path, plan: list[Damage], capsys) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    outside = make_outside(tmp)
    sweep = Path(shutil.copytree(template, tmp / "sweep", symlinks=True))
    trial = json.loads((template / "sweep.json").read_text())["trials"][0]["name"]
    for d in plan:
        apply(sweep, d, outside, trial)
    before, before_outside = snapshot(sweep), snapshot(outside)
    call("sweep --status", sweep_main, ["--status", str(sweep)], capsys)
    call("report", report, [str(sweep), "--out", str(tmp / "report")], capsys)
    assert snapshot(sweep) == before, "--status or report changed the sweep folder"
    assert snapshot(outside) == before_outside, "something outside the sweep folder changed"
    assert {p.name for p in tmp.iterdir()} <= {"outside", "report", "sweep"}


@settings(max_examples=3, derandomize=True, **FUZZ)
@given(plan=sweep_damages)
def test_a_damaged_sweep_folder_breaks_no_invariant(plan, tmp_path_factory, quiet, capsys):
    check_sweep(tmp_path_factory.getbasetemp() / "fuzz-sweep", finished_sweep(tmp_path_factory), plan, capsys)


@pytest.mark.slow
@settings(max_examples=max(1, MANY * 2 // 3), **FUZZ)
@given(plan=sweep_damages)
def test_a_damaged_sweep_folder_breaks_no_invariant_many(plan, tmp_path_factory, quiet, capsys):
    check_sweep(tmp_path_factory.getbasetemp() / "fuzz-sweep-many", finished_sweep(tmp_path_factory), plan, capsys)


def test_the_huge_png_is_one_genlat_refuses(tmp_path):
    from genlat.records import png_problem

    (tmp_path / "huge.png").write_bytes(huge_png())
    assert png_problem(tmp_path / "huge.png")
