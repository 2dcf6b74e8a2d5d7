"""The files a report owns in its --out folder. A user may keep their own files there (even in
figures/), so a new report deletes only the figures the previous report listed as its own, never
a folder: the list is OUT/.genlat-report.json."""

from __future__ import annotations

import json
from pathlib import Path

from analysis.document import Document, Figure
from genlat.errors import OutputError

MANIFEST = ".genlat-report.json"


def prepare(out: Path) -> Path:
    """Make OUT/figures and remove the figures the previous report wrote (they would linger, stale,
    when a run or setting is gone). Returns the figures folder."""
    fig_dir = out / "figures"
    try:
        fig_dir.mkdir(parents=True, exist_ok=True)
        for name in _previous(out):
            (fig_dir / name).unlink(missing_ok=True)
    except OSError as e:
        raise OutputError(f"--out {out}: cannot write there ({e.strerror}); pick another --out") from None
    return fig_dir


def _previous(out: Path) -> list[str]:
    try:
        names = json.loads((out / MANIFEST).read_text()).get("figures", [])
    except (OSError, ValueError, AttributeError):
        return []  # no (readable) list: delete nothing
    # only plain names of PNGs (and the morph GIFs): a damaged or hand-edited list can never reach outside figures/
    return [n for n in names if isinstance(n, str) and n.endswith((".png", ".gif")) and Path(n).name == n]


def figures(doc: Document) -> list[Path]:
    return [b.path for s in doc.sections for b in s.blocks if isinstance(b, Figure)]


def record(out: Path, doc: Document) -> None:
    names = sorted({p.name for p in figures(doc)})
    (out / MANIFEST).write_text(json.dumps({"figures": names}, indent=2) + "\n", encoding="utf-8")
