"""report.md: the same Document as Markdown, figures as relative PNG links. Strings from runs are
escaped for Markdown (and for the HTML that Markdown viewers let through)."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from analysis.document import Document, Figure, Findings, Heading, Para, Table

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|#!])")
MARKS = {"supported": "✅", "contradicted": "❌", "not resolved": "❔", "not measurable": "➖"}  # a verdict, marked


def esc(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False)).replace("\n", " ")


def verdict(text: str) -> str:
    """A verdict marked: '✅ **supported**'."""
    return f"{MARKS[text]} **{esc(text)}**" if text in MARKS else esc(text)


def table(block: Table) -> str:
    notes = block.notes or [""] * len(block.rows)
    lines = ["| " + " | ".join(esc(h) or " " for h in block.header) + " |", "|" + "---|" * len(block.header)]
    cell = [verdict if h == "verdict" else esc for h in block.header]
    lines += ["| " + " | ".join(cell[j](c) + (f" <sub>{esc(n)}</sub>" if n and j == 0 else "") for j, c in enumerate(row)) + " |"
              for row, n in zip(block.rows, notes)]  # fmt: skip
    return "\n".join(lines)


def render(doc: Document, out_dir: Path) -> str:
    lines = [f"# {esc(doc.title)}", "", *(f"{esc(m)}  " for m in doc.meta), ""]
    for section in doc.sections:
        lines += [f"## {esc(section.heading)}", "", f"*{esc(section.question)}*", ""]
        for block in section.blocks:
            if isinstance(block, Para):
                lines += [(f"{MARKS.get(block.verdict, '')} " if block.verdict else "") + esc(block.text), ""]
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
