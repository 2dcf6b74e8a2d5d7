"""report.html: one self-contained file (images inline as base64, CSS inline, no network). Every
string from runs, configs or paths goes through html.escape."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from analysis.document import Document, Figure, Findings, Heading, Para, Section, Table

CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
.meta { color: #555; margin: 0; } .question { font-style: italic; color: #444; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9em; }
table { border-collapse: collapse; font-size: .85em; margin: 1em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: .2em .5em; text-align: right; white-space: nowrap; }
td small { color: #777; font-family: monospace; font-size: .8em; }
section[id$="claims"] td { white-space: normal; min-width: 7em; text-align: left; }
section[id$="answers"] p { max-width: 60em; margin: .4em 0; }
th:first-child, td:first-child { text-align: left; }
.findings { background: #f6f8fa; border-left: 4px solid #4a7; padding: .5em 1em; }
.findings h3 { margin: .2em 0; font-size: 1em; }
"""

# Counts the images that actually decoded, so a headless browser (and a test) can read it from the DOM.
IMAGE_CHECK = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var el = document.getElementById('image-check');
  el.setAttribute('data-loaded', ok); el.setAttribute('data-total', imgs.length);
  el.textContent = ok + ' of ' + imgs.length + ' images loaded';
});
"""


def render(doc: Document) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">',
        f"<title>{escape(doc.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(doc.title)}</h1>",
        *(f'<p class="meta">{escape(line)}</p>' for line in doc.meta),
        '<p class="meta" id="image-check" data-loaded="" data-total=""></p>',
        "<nav><p>" + " · ".join(f'<a href="#{escape(s.anchor)}">{escape(s.heading)}</a>' for s in doc.sections) + "</p></nav>",
        *(_section(s) for s in doc.sections),
        f"<script>{IMAGE_CHECK}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _section(section: Section) -> str:
    out = [f'<section id="{escape(section.anchor)}"><h2>{escape(section.heading)}</h2>',
           f'<p class="question">{escape(section.question)}</p>']  # fmt: skip
    for block in section.blocks:
        if isinstance(block, Para):
            out.append(f"<p>{escape(block.text)}</p>")
        elif isinstance(block, Heading):
            out.append(f"<h3>{escape(block.text)}</h3>")
        elif isinstance(block, Figure):
            out.append(f'<figure><img src="{_data_uri(block.path)}" alt="{escape(block.caption)}">'
                       f"<figcaption>{escape(block.caption)}</figcaption></figure>")  # fmt: skip
        elif isinstance(block, Table):
            head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
            notes = block.notes or [""] * len(block.rows)
            body = "".join("<tr>" + "".join(f"<td>{escape(c)}" + (f"<br><small>{escape(n)}</small>" if n and j == 0 else "") + "</td>"
                                            for j, c in enumerate(row)) + "</tr>" for row, n in zip(block.rows, notes))  # fmt: skip
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(block, Findings):
            items = "".join(f"<li>{escape(i)}</li>" for i in block.items)
            out.append(f'<div class="findings"><h3>Findings</h3><ul>{items}</ul></div>')
    out.append("</section>")
    return "\n".join(out)


def _data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(png).read_bytes()).decode("ascii")
