"""report.md: the same Document as Markdown, figures as relative PNG links. Strings from runs are
escaped for Markdown (and for the HTML that Markdown viewers let through)."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from analysis.document import Document, Figure, Findings, Heading, Para, Table

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|#!])")


def esc(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False)).replace("\n", " ")


def table(block: Table) -> str:
    notes = block.notes or [""] * len(block.rows)
    lines = ["| " + " | ".join(esc(h) or " " for h in block.header) + " |", "|" + "---|" * len(block.header)]
    lines += ["| " + " | ".join(esc(c) + (f" <sub>{esc(n)}</sub>" if n and j == 0 else "") for j, c in enumerate(row)) + " |"
              for row, n in zip(block.rows, notes)]  # fmt: skip
    return "\n".join(lines)


def render(doc: Document, out_dir: Path) -> str:
    lines = [f"# {esc(doc.title)}", "", *(f"{esc(m)}  " for m in doc.meta), ""]
    for section in doc.sections:
        lines += [f"## {esc(section.heading)}", "", f"*{esc(section.question)}*", ""]
        for block in section.blocks:
            if isinstance(block, Para):
                lines += [esc(block.text), ""]
            elif isinstance(block, Heading):
                lines += [f"### {esc(block.text)}", ""]
            elif isinstance(block, Figure):
                rel = Path(os.path.relpath(block.path, out_dir)).as_posix()
                lines += [f"![{esc(block.caption)}]({rel})", "", f"*{esc(block.caption)}*", ""]
            elif isinstance(block, Table):
                lines += [table(block), ""]
            elif isinstance(block, Findings):
                lines += ["**Findings**", "", *(f"- {esc(i)}" for i in block.items), ""]
    return "\n".join(lines)
