"""The report as data: sections of paragraphs, tables, figures and findings. The HTML, Markdown and
W&B renderers each turn the same Document into their format, so they can never disagree.
All strings are plain text: escaping is the renderer's job."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Para:
    text: str
    verdict: str | None = None  # a claim's sentence: its verdict (styled per verdict in HTML, marked in Markdown)


@dataclass
class Heading:
    text: str  # a heading inside a section (each question of the answers)


@dataclass
class Figure:
    path: Path  # a PNG (or the Q3 morph's GIF) in the report folder
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


@dataclass(frozen=True)
class StampGroup:
    """One of the groups a report is split into when its runs carry different measurement stamps."""

    number: int  # 1, 2, ...: the largest group first
    stamp: tuple  # the stamp its numbers share (analysis/load/stamps.py)
    text: str  # the stamp in words


@dataclass
class Section:
    name: str  # which part: answers, claims, runs, q1, q2, q3 (the question it answers), appendix
    title: str
    question: str  # what the section asks, in words (shown under its title)
    blocks: list[Block] = field(default_factory=list)
    group: StampGroup | None = None  # when the report is split by measurement stamp: the group of its numbers

    @property
    def anchor(self) -> str:
        """A stable HTML id: q1, or g2-q1 for the second stamp group's."""
        return f"g{self.group.number}-{self.name}" if self.group else self.name

    @property
    def heading(self) -> str:
        return f"Group {self.group.number}, {self.title} ({self.group.text})" if self.group else self.title

    @property
    def stamp(self) -> tuple | None:
        return self.group.stamp if self.group else None

    def findings(self) -> list[str]:
        return [item for b in self.blocks if isinstance(b, Findings) for item in b.items]


@dataclass
class Document:
    title: str
    meta: list[str]  # lines under the title: source, when, what
    sections: list[Section]
    data: dict = field(default_factory=dict)  # the results as data: report.json (claims, exploratory tests)
