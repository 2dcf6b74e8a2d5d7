"""The files a report owns in its --out folder, and the one way they are written. A user may keep
their own files there (even in figures/), so a report

- never writes through a link: report.html/.md/.json, the list below and figures/ must not be
  links (refused, exit 4, before anything is built), and every file is replaced atomically;
- never replaces a file it did not write: the figures are drawn into a staging folder of its own,
  then moved into figures/ all together, and only after checking that no name would replace a
  link, a folder or a file the previous report did not list as its own (then nothing is moved);
- deletes only the figures the previous report listed (OUT/.genlat-report.json), never a folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from analysis.document import Document, Figure
from genlat.atomic import atomic_write_bytes
from genlat.errors import OutputError

MANIFEST = ".genlat-report.json"
PAGES = ("report.html", "report.md", "report.json")
FIGURE_SUFFIXES = (".png", ".gif")


class ReportFiles:
    def __init__(self, out: Path):
        """Check OUT's own paths; nothing is written yet."""
        self.out, self.figures_dir = Path(out), Path(out) / "figures"
        for path in (*(self.out / p for p in (*PAGES, MANIFEST)), self.figures_dir):
            if path.is_symlink():
                raise OutputError(f"{path} is a symbolic link: genlat report writes only inside --out; remove the link "
                                  "or pick another --out")  # fmt: skip
            if path.exists() and path.is_dir() != (path == self.figures_dir):
                kind = "not a folder" if path == self.figures_dir else "a folder, not a file"
                raise OutputError(f"{path} is {kind}: move it away, or pick another --out")
        self.previous = _previous(self.out)

    def staging(self) -> Path:
        """A fresh folder of the report's own inside OUT, where the figures are drawn."""
        try:
            self.figures_dir.mkdir(parents=True, exist_ok=True)
            self.stage = Path(tempfile.mkdtemp(prefix=".genlat-report-", suffix=".tmp", dir=self.out))
        except OSError as e:
            raise OutputError(f"--out {self.out}: cannot write there ({e.strerror}); pick another --out") from None
        return self.stage

    def discard(self) -> None:
        """Remove the staging folder (made by us; rmtree never follows a link in it)."""
        if getattr(self, "stage", None) is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            self.stage = None

    def publish(self, doc: Document) -> Document:
        """Move the staged figures into figures/ (all or none), drop the previous report's stale ones,
        and write the pages and the list. Returns the document with its figures' final paths."""
        staged = figures(doc)
        for path in staged:
            target = self.figures_dir / path.name
            if target.is_symlink() or (target.exists() and not target.is_file()):
                raise OutputError(f"{target} is {'a symbolic link' if target.is_symlink() else 'not a regular file'}, "
                                  "where the report writes a figure: move it away, or pick another --out")  # fmt: skip
            if target.exists() and target.name not in self.previous:
                raise OutputError(f"{target} is not a figure an earlier report wrote (not in {self.out / MANIFEST}): "
                                  "the report would replace it; move it away, or pick another --out")  # fmt: skip
        names = sorted({p.name for p in staged})
        try:
            self._write(
                MANIFEST, json.dumps({"figures": names}, indent=2) + "\n"
            )  # first: a kill mid-move leaves them listed
            for path in staged:
                os.replace(path, self.figures_dir / path.name)
            for name in set(self.previous) - set(names):
                stale = self.figures_dir / name
                if stale.is_file() and not stale.is_symlink():
                    stale.unlink()
        except OSError as e:
            raise OutputError(f"--out {self.out}: cannot write there ({e.strerror}); pick another --out") from None
        return _moved(doc, self.figures_dir)

    def write_pages(self, pages: dict[str, str]) -> None:
        try:
            for name, text in pages.items():
                self._write(name, text)
        except OSError as e:
            raise OutputError(f"--out {self.out}: cannot write there ({e.strerror}); pick another --out") from None

    def _write(self, name: str, text: str) -> None:
        assert name in (*PAGES, MANIFEST)
        atomic_write_bytes(self.out / name, text.encode("utf-8"))  # replaces, never writes through


def _previous(out: Path) -> list[str]:
    try:
        names = json.loads((out / MANIFEST).read_text()).get("figures", [])
    except (OSError, ValueError, AttributeError):
        return []  # no (readable) list: delete nothing
    # only plain names of PNGs (and the morph GIFs): a damaged or hand-edited list can never reach outside figures/
    return [n for n in names if isinstance(n, str) and n.endswith(FIGURE_SUFFIXES) and Path(n).name == n]


def figures(doc: Document) -> list[Path]:
    return [b.path for s in doc.sections for b in s.blocks if isinstance(b, Figure)]


def _moved(doc: Document, folder: Path) -> Document:
    for section in doc.sections:
        section.blocks = [replace(b, path=folder / b.path.name) if isinstance(b, Figure) else b for b in section.blocks]
    return doc
