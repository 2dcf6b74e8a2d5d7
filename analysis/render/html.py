"""report.html from the Document: the page is a jinja2 template (report.html.jinja) with its CSS
(report.css) and image check (image_check.js) beside it, rendered with autoescape: every string from
runs, configs or paths is escaped by the template engine, none by hand."""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from analysis.document import Document

TEMPLATE = "report.html.jinja"


def _data_uri(image: Path) -> str:
    kind = "gif" if Path(image).suffix == ".gif" else "png"  # the figures are PNG, the Q3 morph a GIF
    return f"data:image/{kind};base64," + base64.b64encode(Path(image).read_bytes()).decode("ascii")


def verdict_class(verdict: str) -> str:
    """The CSS class of a verdict (report.css colours each): v-supported, v-contradicted, v-not-resolved, v-not-measurable."""
    return "v-" + "-".join(str(verdict).split())


def _kinded(block) -> tuple[str, object]:
    """(its kind, the block): the template tells the Document's blocks apart by kind."""
    return type(block).__name__.lower(), block


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)  # fmt: skip
    env.filters.update(data_uri=_data_uri, kinded=_kinded, verdict_class=verdict_class)
    env.globals["zip"] = zip
    return env


def render(doc: Document) -> str:
    return environment().get_template(TEMPLATE).render(doc=doc)
