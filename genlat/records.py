"""Every file genlat reads back from a run folder, read through one validation per format, so a
damaged file is a `Damaged` naming it and what is wrong (train and eval: one line, exit 4; the
report: a named problem, that run left out), never a traceback or a hang.

    config.json    an object; each TrainConfig field it holds has that field's JSON type
    status.json    an object: "state" one of STATES, "epoch" an integer >= 0, "reason" a string
    metrics.jsonl  one object per line with an integer "epoch" >= 1 (values are free: the report
                   treats a non-number or a NaN as "not measured")
    PNGs           a regular file of at most PNG_MAX_BYTES that decodes, at most PNG_MAX_SIDE a side
    sweep files    YAML through `parse_yaml`, whose aliases may expand to YAML_MAX_VALUES at most
    (checkpoints: genlat.checkpoint.checkpoint_problem; sweep.json: genlat.sweep.state)

Only regular files are read: a FIFO, a device or a folder where a file should be is damage (opened
with O_NONBLOCK, so a FIFO cannot block the open itself). Imports nothing heavy.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
from pathlib import Path
from typing import Any

STATES = ("running", "finished", "preempted", "diverged", "failed")
JSON_MAX_BYTES = 16 * 2**20  # config.json, status.json, sweep.json: genlat writes a few KiB
METRICS_MAX_BYTES = 2**30  # one line per epoch: ~2 KiB each
PNG_MAX_BYTES = 256 * 2**20
PNG_MAX_SIDE = 16384  # genlat's largest grid is n_samples tiles of 64 px; a bigger one is not ours
PNG_MAX_PIXELS = 2**26
YAML_MAX_VALUES = 100_000  # a sweep file has a few hundred; an alias bomb expands to billions


class Damaged(ValueError):
    """A file genlat wrote that does not read back as that format."""

    def __init__(self, path: str | os.PathLike, why: str):
        self.path, self.why = Path(path), why
        super().__init__(f"{path}: {why}")


def read_regular(path: str | os.PathLike, limit: int) -> bytes | None:
    """The bytes of a regular file, None when nothing is there; Damaged when it is something else
    (a folder, a FIFO, a device, a dangling link) or larger than `limit`."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):  # nothing there (or a file where a folder of the path would be)
        if path.is_symlink():
            raise Damaged(path, "a link to nothing") from None
        return None
    except IsADirectoryError:
        raise Damaged(path, "a folder, not a file") from None
    except OSError as e:
        raise Damaged(path, f"cannot be read ({e.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise Damaged(path, "a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise Damaged(path, "not a regular file (a FIFO or a device?)")
        if info.st_size > limit:
            raise Damaged(path, f"{info.st_size:,} bytes, more than genlat ever writes there ({limit:,})")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise Damaged(path, f"more than {limit:,} bytes")
        return data
    except OSError as e:
        raise Damaged(path, f"cannot be read ({e.strerror or e})") from None
    finally:
        os.close(fd)


def read_json(path: str | os.PathLike, limit: int = JSON_MAX_BYTES) -> Any:
    """The JSON value in a file (None when there is no file); Damaged when it is not JSON in UTF-8."""
    data = read_regular(path, limit)
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise Damaged(path, "not UTF-8 text") from None
    except ValueError as e:
        raise Damaged(path, f"not valid JSON ({e.msg if hasattr(e, 'msg') else e})") from None
    except RecursionError:
        raise Damaged(path, "nested too deeply") from None


def _kind(value: Any) -> str:
    return {
        bool: "true/false",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


# what each TrainConfig field's value may be in JSON (config.json, a checkpoint's config)
_JSON_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}
_EXTRAS = {
    "run_name": (str,),
    "wandb_id": (str, type(None)),
    "image_channels": (int,),
    "g_params": (int,),
    "d_params": (int,),
    "world_size": (int,),
    "steps_per_epoch": (int,),
    "images_per_epoch": (int,),
    "mixed_precision_resolved": (str,),
}


def config_problem(record: Any) -> str | None:
    """What is wrong with a config record (config.json, a checkpoint's "config"), or None. Types only:
    the values are TrainConfig's to check (genlat eval builds one from it)."""
    if not isinstance(record, dict):
        return f"{_kind(record)}, not an object"
    from genlat.config import TrainConfig, _switch

    wanted = dict(_EXTRAS)
    for f in dataclasses.fields(TrainConfig):
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        wanted[f.name] = (str, bool) if f.metadata.get("convert") is _switch else _JSON_TYPES[kind]
    for key, value in record.items():
        types = wanted.get(key)
        if types is None:
            continue
        if type(value) not in types:
            return f"{key} is {_kind(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{key} is {value}"
    return None


def read_config(path: str | os.PathLike) -> dict[str, Any] | None:
    record = read_json(path)
    if record is not None and (problem := config_problem(record)):
        raise Damaged(path, problem)
    return record


def status_problem(status: Any) -> str | None:
    if not isinstance(status, dict):
        return f"{_kind(status)}, not an object"
    if status.get("state") not in STATES:
        return f"state is {status.get('state')!r}, not one of {', '.join(STATES)}"
    epoch = status.get("epoch")
    if type(epoch) is not int or epoch < 0:
        return f"epoch is {epoch!r}, not an epoch number"
    if not isinstance(status.get("reason", ""), (str, type(None))):
        return f"reason is {_kind(status['reason'])}"
    return None


def read_status(path: str | os.PathLike) -> dict[str, Any] | None:
    status = read_json(path)
    if status is not None and (problem := status_problem(status)):
        raise Damaged(path, problem)
    return status


def metrics_row(line: bytes) -> dict[str, Any] | None:
    """One metrics line as a row, or None when it is not one (an object with an integer epoch >= 1)."""
    try:
        row = json.loads(line)
    except (ValueError, RecursionError):  # also UnicodeDecodeError
        return None
    if isinstance(row, dict) and type(row.get("epoch")) is int and row["epoch"] >= 1:
        return row
    return None


def read_metrics(path: str | os.PathLike) -> tuple[list[dict[str, Any]], list[int]]:
    """Every intact line, and the numbers of the complete lines that are not: a damaged line never
    hides the lines after it. A last line without its newline is a write cut by a kill (the resume
    replays that epoch), not damage."""
    data = read_regular(path, METRICS_MAX_BYTES)
    if data is None:
        return [], []
    lines = data.split(b"\n")
    rows, bad = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = metrics_row(line)
        if row is not None:
            rows.append(row)
        elif number < len(lines):
            bad.append(number)
    return rows, bad


def png_problem(path: str | os.PathLike) -> str | None:
    """What is wrong with a PNG genlat wrote and a report embeds, or None: it must be a regular file
    that decodes whole, at most PNG_MAX_SIDE pixels a side."""
    try:
        data = read_regular(path, PNG_MAX_BYTES)
    except Damaged as e:
        return e.why
    if data is None:
        return "missing"
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "PNG":
                return f"not a PNG ({img.format})"
            if max(img.size) > PNG_MAX_SIDE or img.size[0] * img.size[1] > PNG_MAX_PIXELS:
                return f"{img.size[0]}x{img.size[1]} pixels, larger than genlat draws"
            img.load()
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError, zlib.error, DecompressionBombError...
        return f"does not decode ({type(e).__name__})"
    return None


class YamlRefused(ValueError):
    """A YAML document genlat will not construct (its aliases expand past YAML_MAX_VALUES)."""


def parse_yaml(text: str) -> Any:
    """The one YAML loader (sweep files and their copies): safe_load, with the expansion of aliases
    bounded. An alias re-uses a node, so `a: &x [..]`, `b: [*x, *x, ...]` nested ten deep is a tiny
    file whose expansion (what str() or json.dumps of it would build) has billions of values."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            size = _expanded_size(node)
        except RecursionError:
            raise YamlRefused("nested too deeply to read") from None
        if size > YAML_MAX_VALUES:
            raise YamlRefused(
                f"its aliases (*name) expand to more than the {YAML_MAX_VALUES:,} values a sweep file "
                f"may hold ({_count(size)} counted: an alias bomb, or an alias inside its own anchor?): "
                "write the values out"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"about 10^{len(str(n)) - 1}"


def _expanded_size(root) -> int:
    """Values in the document once every alias is written out: each node counted as often as it is
    reached, computed once per node (so in time linear in the file, however large the expansion)."""
    import yaml

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the path from the root: reaching one again is a cycle
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        if done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes.get(id(c), YAML_MAX_VALUES + 1) for c in children)  # a cycle: too large
        elif id(node) not in sizes and id(node) not in open_nodes:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes and id(c) not in open_nodes)
    return sizes[id(root)]
