"""`genlat report` (also `python -m analysis.report`): the command. It reads the runs (analysis/load/),
builds the Document (analysis/build.py, by question: analysis/questions/) and renders it
(analysis/render/): report.html (self-contained), report.md, report.json (every claim and every
exploratory test as data) and the figures as PNG in --out.

Sources: a sweep DIR (sweep.json + runs/, or any folder of run directories), `--runs RUN_DIR ...`,
or `--wandb ENTITY/PROJECT[/SWEEP_ID]` (the W&B public API: a project's runs, a sweep's, or with
`--group NAME` a group's, e.g. an offline sweep synced by `genlat sweep --sync`). `--publish` also
builds a W&B Report."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from genlat.cli_args import UserArgumentParser, user_path
from genlat.errors import ConfigError, entry_point

DEFAULT_LOOSE_OUT = "report"
DESCRIPTION = ("`genlat report SWEEP_DIR [--out DIR]` (also `python -m analysis.report`): Q1-Q3 answered from the\n"
               "runs' own records, as report.html (self-contained), report.md and the figures as PNG.")  # fmt: skip


def parse(argv: list[str]):
    p = UserArgumentParser(prog="genlat report", description=DESCRIPTION)
    p.add_argument("sweep_dir", nargs="?", type=user_path, help="a genlat sweep DIR (or a folder of run directories)")
    p.add_argument(
        "--out", type=user_path, help="where to write (default: SWEEP_DIR/report; with --runs/--wandb: ./report)"
    )
    p.add_argument(
        "--runs", nargs="+", metavar="RUN_DIR", type=user_path, help="report on these run directories instead"
    )
    p.add_argument(
        "--wandb", metavar="ENTITY/PROJECT[/SWEEP_ID]", help="read the runs through the W&B public API instead"
    )
    p.add_argument("--group", metavar="NAME", help="with --wandb ENTITY/PROJECT: only the runs of this W&B group")
    p.add_argument("--publish", action="store_true", help="also build and save a W&B Report (needs `wandb login`)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    args = p.parse_args(argv)
    sources = [x for x in (args.sweep_dir, args.runs, args.wandb) if x]
    if len(sources) != 1:
        raise ConfigError("give exactly one of SWEEP_DIR, --runs RUN_DIR ..., --wandb ENTITY/PROJECT[/SWEEP_ID]")
    if args.group is not None and not args.wandb:
        raise ConfigError("--group selects runs on W&B: use it with --wandb ENTITY/PROJECT")
    return args


def load_study(args, out: Path):
    from analysis.load import study

    if args.sweep_dir:
        return study.load_sweep(args.sweep_dir)
    if args.runs:
        return study.load_loose(args.runs)
    from analysis.load.wandb import load_wandb

    return load_wandb(args.wandb, out / "wandb-runs", group=args.group)


def write(args, console: Console) -> int:
    from analysis import build, report_files
    from analysis.render import html, markdown

    out = Path(args.out or (Path(args.sweep_dir) / "report" if args.sweep_dir else DEFAULT_LOOSE_OUT))
    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal) as bar:  # fmt: skip
        task = bar.add_task("reading runs", total=6)
        files = report_files.ReportFiles(out)  # OUT's own paths checked (no links) before anything is read or built
        study = load_study(args, out)
        bar.advance(task)

        def step(name: str) -> None:
            bar.update(task, description=name, advance=1)

        try:
            doc = build.build(study, files.staging(), step)
            bar.update(task, description="writing report.html, report.md, report.json", advance=1)
            doc = files.publish(doc)  # the figures into OUT/figures, all or none
            data = json.dumps(_finite(doc.data), indent=1, allow_nan=False, default=_number) + "\n"
            files.write_pages(
                {"report.html": html.render(doc), "report.md": markdown.render(doc, out), "report.json": data}
            )
        finally:
            files.discard()
        fig_dir = files.figures_dir
        bar.advance(task)
    n_figs = len(report_files.figures(doc))
    console.print(f"report: {out / 'report.html'}  (also {out / 'report.md'}, {out / 'report.json'}, {n_figs} figures in {fig_dir}/; "
                  f"{len(study.runs)} runs, {len(study.problems)} problem(s) named; {time.perf_counter() - t0:.1f}s)",
                  highlight=False, markup=False, soft_wrap=True)  # fmt: skip
    if args.publish:
        from analysis.render.wandb import publish

        url = publish(doc, study)
        console.print(f"W&B report: {url}", highlight=False, markup=False, soft_wrap=True)
    return 0


def _number(x):
    """report.json is strict JSON: numpy numbers as floats (json.dumps calls this only for what it cannot write)."""
    return float(x)


def _finite(data):
    """inf/nan (an effect with no spread over seeds) as null: strict JSON has neither."""
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    return None if isinstance(data, float) and not math.isfinite(data) else data


@entry_point
def main(argv: list[str]) -> int:
    return write(parse(argv), Console(stderr=False, soft_wrap=True))


if __name__ == "__main__":
    sys.exit(main())
