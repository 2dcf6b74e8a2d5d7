"""The report as data: sections of paragraphs, tables, figures and findings. The HTML, Markdown and
W&B renderers each turn the same Document into their format, so they can never disagree.
All strings are plain text: escaping is the renderer's job."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Para:
    text: str


@dataclass
class Heading:
    text: str  # a heading inside a section (each question of the answers)


@dataclass
class Figure:
    path: Path  # a PNG in the report folder
    caption: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    notes: list[str] | None = None  # small print under each row's first cell (e.g. the metric's key)


@dataclass
class Findings:
    items: list[str]  # computed sentences, one claim each


Block = Para | Heading | Figure | Table | Findings


@dataclass
class Section:
    key: str  # a stable anchor: runs, q1, q2, q3
    title: str
    question: str
    blocks: list[Block] = field(default_factory=list)
    stamp: tuple | None = None  # when the report is split by measurement stamp: the one its numbers share

    def findings(self) -> list[str]:
        return [item for b in self.blocks if isinstance(b, Findings) for item in b.items]


@dataclass
class Document:
    title: str
    meta: list[str]  # lines under the title: source, when, what
    sections: list[Section]
