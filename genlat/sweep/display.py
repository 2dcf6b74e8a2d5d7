"""What the user watches while a sweep runs: a live table of the running trials on a terminal,
one plain line per event (start, finish, stop) otherwise (logs, CI, job arrays)."""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table


class SweepDisplay:
    def __init__(self, varying: list[str], metric: str | None, console: Console | None = None):
        self.varying, self.metric = varying, metric
        self.console = console or Console(stderr=True, soft_wrap=True)
        self.live = (
            Live(console=self.console, refresh_per_second=4, transient=True) if self.console.is_terminal else None
        )

    def __enter__(self):
        if self.live:
            self.live.start()
        return self

    def __exit__(self, *exc):
        if self.live:
            self.live.stop()

    def event(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        # our markup (the dim stamp) only; the text (trial names, parameter values, errors) is escaped
        self.console.print(
            f"[dim]{stamp}[/dim] {escape(text)}" if self.live else f"{stamp} {text}",
            highlight=False,
            markup=bool(self.live),
        )

    def show(self, active: list) -> None:
        if not self.live:
            return
        table = Table(title="running trials", title_justify="left", expand=False)
        for col in ("worker", "trial", *self.varying, "epoch", self.metric or "metric", "time"):
            table.add_column(col)
        for a in sorted(active, key=lambda a: a.slot):
            t = a.trial
            best = f"{t.best:.4g}" if t.best is not None else "-"
            epoch = f"{t.epoch}/{t.epochs or '?'}"
            state = f" ({a.stop})" if a.stop else ""
            table.add_row(str(a.slot), escape(t.name + state), *(escape(_fmt(t.params.get(k))) for k in self.varying),
                          epoch, best, f"{time.monotonic() - a.t0:.0f}s")  # fmt: skip
        self.live.update(table)


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
