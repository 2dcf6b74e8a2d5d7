"""Atomic file writes: a reader (or a resume after a kill) sees the old file or the new one, never
half of one. Checkpoints, PNGs, feature nets, the run directory's files and the sweep state all
write through here."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from genlat import faults


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp alone makes files private (0600)
TEMP_SUFFIX = ".tmp"  # temp files are ".NAME.<random>.tmp" beside their target (RunDir.remove_temp_files)


def atomic_write_bytes(path: Path, data: bytes, fault: str = "") -> None:
    """Write to a temp file in the same folder, fsync, then rename: readers never see half a file.
    A failed write (a full disk) removes the temp file; a SIGKILL leaves it, for `remove_temp_files`.
    `fault` names the file's fault points (genlat.faults): FAULT-write and FAULT-rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            half = len(data) // 2
            f.write(data[:half])
            if fault:
                f.flush()
                faults.hit(f"{fault}-write")
            f.write(data[half:])
            f.flush()
            os.fsync(f.fileno())
        if fault:
            faults.hit(f"{fault}-rename")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())
