"""Read a W&B run's transaction log (`run-ID.wandb`) without a server: what the client would send.

The file is a LevelDB-style log (wandb-core's `transactionlog`): a 7-byte header (`:W&B`, a 2-byte
magic, a version byte), then 32 KiB blocks of chunks, each a little-endian crc32 (4 bytes), a length
(2 bytes) and a type (1: whole record, 2/3/4: first/middle/last part), then the bytes of a
`wandb_internal_pb2.Record`. A block's last < 7 bytes are padding.
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

from wandb.proto import wandb_internal_pb2 as pb

BLOCK = 32 * 1024
HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> list[pb.Record]:
    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    out, pos, parts = [], HEADER, b""
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:  # padding at the end of a block
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if kind == 0:  # zeros: the writer stopped in this block
            pos += left
            continue
        if pos + 7 + length > len(data):  # a chunk still being written
            break
        parts += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (FULL, LAST):
            record = pb.Record()
            record.ParseFromString(parts)
            out.append(record)
            parts = b""
    return out


def of_kind(path: Path, kind: str) -> list:
    """The records of one kind ("run", "config", "metric", "summary", "preempting", "exit", ...), unwrapped."""
    return [getattr(r, kind) for r in records(path) if r.WhichOneof("record_type") == kind]


def _nested(items, values: dict | None = None) -> dict:
    """Items of a summary or history record (a key, or a nested key: "a/b" of a media entry) applied to a dict."""
    values = {} if values is None else values
    for item in items:
        keys = list(item.nested_key) or [item.key]
        where = values
        for k in keys[:-1]:
            where = where.setdefault(k, {})
        where[keys[-1]] = json.loads(item.value_json)
    return values


def summary(path: Path) -> dict:
    """The run's summary as the server would end up holding it: every summary update applied in order."""
    values: dict = {}
    for s in of_kind(path, "summary"):
        _nested(s.update, values)
    return values


def history(path: Path) -> list[dict]:
    """The run's history rows (each `run.log` call), in order; a media entry is a dict of its fields."""
    return [_nested(h.item) for h in of_kind(path, "history")]


def the_log(run_dir: Path, timeout: float = 60) -> Path:
    """The one offline run's transaction log in a run directory (fails when there are none or several),
    once it holds the run's exit record: in-process, W&B's service may still be writing for a moment
    after the run has finished."""
    (path,) = Path(run_dir).glob("wandb/offline-run-*/run-*.wandb")
    deadline = time.monotonic() + timeout
    while not of_kind(path, "exit") and time.monotonic() < deadline:
        time.sleep(0.2)
    return path
