"""What the user watches while a run trains: a rich bar on a terminal, plain lines otherwise."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class TrainProgress:
    """One bar per epoch. `advance` is cheap (no host sync); `show` takes numbers already on the host."""

    def __init__(self, enabled: bool, epochs: int, steps: int, console: Console | None = None):
        self.enabled, self.epochs, self.steps = enabled, epochs, steps
        self.console = console or Console(stderr=True, soft_wrap=True)
        self.live = enabled and self.console.is_terminal
        self.bar = None
        if self.live:
            self.bar = Progress(
                TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()

    def start_epoch(self, epoch: int) -> None:
        self.epoch, self.done = epoch, 0
        if self.bar:
            self.task = self.bar.add_task("", total=self.steps, epoch=epoch, epochs=self.epochs, stats="")

    def advance(self) -> None:
        self.done += 1
        if self.bar:
            self.bar.advance(self.task)

    def show(self, losses: dict[str, float], images_per_s: float) -> None:
        stats = "  ".join(f"{k} {v:.3f}" for k, v in losses.items()) + f"  {images_per_s:,.0f} img/s"
        if self.bar:
            self.bar.update(self.task, stats=stats)
        elif self.enabled:
            self.console.print(
                f"epoch {self.epoch}/{self.epochs} step {self.done}/{self.steps}  {stats}",
                highlight=False,
                markup=False,
            )

    def end_epoch(self, summary: str) -> None:
        if self.bar:
            self.bar.remove_task(self.task)
        if self.enabled:
            self.console.print(summary, highlight=False, markup=False)

    def print(self, text: str) -> None:
        """Plain text: paths and messages are never read as rich markup (`/tmp/x[/y]` would raise a
        MarkupError; the `[warning]` and `[note]` prefixes would vanish)."""
        if self.enabled:
            self.console.print(text, highlight=False, markup=False)
