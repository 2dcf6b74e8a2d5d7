"""`genlat sweep --status DIR` (a table of the trials and the best one) and `genlat sweep --sync DIR`
(upload every trial's offline W&B run with `wandb sync`, once the machine is online). Both only read
the state, except --sync, which records the trials it uploaded."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from genlat.errors import EXIT_UNAVAILABLE, OfflineError
from genlat.keys import Best
from genlat.sweep.spec import SweepFileError, load_spec
from genlat.sweep.state import Sweep, SweepState
from genlat.sweep.trial import Trial
from genlat.wandb_access import base_url, has_wandb_login, server_problem

SYNC_TIMEOUT_S = 900


def _varying(state: SweepState, trials: list[Trial]) -> list[str]:
    try:
        return load_spec(state.spec_copy, check_program=False).varying
    except SweepFileError:
        keys = {k for t in trials for k in t.params}
        return sorted(k for k in keys if len({repr(t.params.get(k)) for t in trials}) > 1)


def best_trial(sweep: Sweep) -> Trial | None:
    """The trial with the best of the trials' bests (each the best over its epochs, genlat.keys.Best)."""
    best = Best.of(sweep.metric)
    scored = [{"epoch": i, best.name: t.best} for i, t in enumerate(sweep.trials) if t.best is not None]
    index = best.epoch(scored)
    return sweep.trials[index] if index is not None else None


def print_status(root: str | Path, console: Console | None = None) -> int:
    state = SweepState(root)
    sweep = Sweep.from_json(state.require("--status"))
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    best = Best.of(sweep.metric)
    shown = {}
    for t in sweep.trials:  # running trials: their newest epochs are in their run directories
        if t.state == "running":
            t.refresh(state.run_dir(t), best)
            if not t.owner_alive():
                shown[t.name] = "running?"  # its runner is gone; the next run of the sweep resumes it
    varying = _varying(state, sweep.trials)
    table = Table(title=escape(f"sweep {sweep.name!r} ({sweep.method}) in {state.root}"), title_justify="left")
    for col in ("trial", "state", *varying, "epoch", f"{best.name} ({best.summary})", "attempts", "time", "synced"):
        table.add_column(col, overflow="fold")
    for t in sweep.trials:
        table.add_row(
            escape(t.name), shown.get(t.name, t.state), *(escape(_fmt(t.params.get(k))) for k in varying),
            f"{t.epoch}/{t.epochs or '?'}", _fmt(t.best) if t.best is not None else "-", str(t.attempts),
            f"{t.seconds:.0f}s", "yes" if t.synced else "",
        )  # fmt: skip
    console.print(table)
    for t in sweep.trials:
        t.state = shown.get(t.name, t.state)
    for line in summary_lines(sweep, state):
        console.print(line, highlight=False, markup=False)
    return 0


def summary_lines(sweep: Sweep, state: SweepState) -> list[str]:
    counts = Counter(t.state for t in sweep.trials)
    lines = [f"{len(sweep.trials)} trial(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
    best = best_trial(sweep)
    metric = Best.of(sweep.metric).name
    varying = _varying(state, sweep.trials)
    if best:
        lines.append(f"best: {best.name}  {metric}={best.best:.6g}  "
                     f"({', '.join(f'{k}={v}' for k, v in best.params.items() if k in varying)})  "
                     f"{state.runs / best.name}")  # fmt: skip
    elif any(t.state in ("finished", "stopped") for t in sweep.trials):
        lines.append(f"no trial has logged {metric!r} (see a trial's metrics.jsonl for the keys it writes)")
    for what in ("failed", "diverged"):  # why, for the trials that did not end well
        for t in [t for t in sweep.trials if t.state == what][:5]:
            lines.append(f"{what}: {t.name}: {t.error}")
    return lines


def closing_lines(data: dict, state: SweepState, interrupted: bool) -> list[str]:
    lines = summary_lines(Sweep.from_json(data), state)
    lines.append(f"results: {state.runs}/<trial>/ (run directories), {state.file} (the sweep's state), {state.logs}/")
    if interrupted:
        lines.append("interrupted: re-run the same command to continue (running trials resume from their checkpoints)")
    lines.append(f"table: genlat sweep --status {state.root}    upload to W&B: genlat sweep --sync {state.root}")
    return lines


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# --- sync -------------------------------------------------------------------------------------------
def check_online() -> str:
    """Fail fast, with one line, when `wandb sync` could only hang: no login, or the server unreachable."""
    if not has_wandb_login():
        raise OfflineError("not logged in to W&B: run `wandb login` (or set WANDB_API_KEY), then --sync again")
    problem = server_problem()
    if problem is not None:
        raise OfflineError(
            f"cannot reach W&B at {base_url()} ({problem}); run --sync again once this machine is online"
        )
    return base_url()


def sync(root: str | Path, console: Console | None = None) -> int:
    state = SweepState(root)
    state.require("--sync")  # refuses a folder that is not a sweep before anything else
    console = console or Console(stderr=True, soft_wrap=True)  # one line per message, as wide as it is
    base = check_online()
    wandb_cli = Path(sys.executable).parent / "wandb"
    cli = [str(wandb_cli)] if wandb_cli.exists() else ["wandb"]
    # wandb sync leaves its debug logs in WANDB_DIR/wandb/, else in ./wandb/ of whoever called it: it runs
    # in the sweep's logs/ with WANDB_DIR there, and is given absolute run paths
    logs = state.logs.resolve()
    logs.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "WANDB_MODE"}
    env.update(WANDB_DIR=str(logs), WANDB_SILENT="false")  # its words are read (below), not shown
    counts = Counter()
    for t in state.load().trials:
        runs = sorted(p.resolve() for p in state.run_dir(t).wandb.glob("offline-run-*")) if t.state != "running" else []
        if t.synced or not runs:
            continue
        console.print(f"syncing {t.name} ({len(runs)} offline run folder(s)) to {base}", highlight=False, markup=False)
        outcome, why = upload(cli, runs, env, logs)
        counts[outcome] += 1
        if outcome == "failed":
            console.print(f"[warning] {t.name} was not uploaded ({why}); --sync again retries it", highlight=False,
                          markup=False)  # fmt: skip
            continue
        if outcome == "already":
            console.print(f"{t.name}: already synced by an earlier `wandb sync`; not uploaded again", highlight=False,
                          markup=False)  # fmt: skip
        with state.transaction() as sweep:
            sweep.trial(t.name).synced = True
    already = f", {counts['already']} already synced" if counts["already"] else ""
    console.print(f"synced {counts['uploaded']} trial(s){already}, {counts['failed']} failed; "
                  f"group {state.load().wandb_group!r} in the W&B project", highlight=False, markup=False)  # fmt: skip
    return 0 if not counts["failed"] else EXIT_UNAVAILABLE


def upload(cli: list[str], runs: list[Path], env: dict, cwd: Path) -> tuple[str, str]:
    """("uploaded" | "already" | "failed", why) for one trial's offline runs. `wandb sync` exits 0 also
    when it uploaded nothing (a server's refusal is an ERROR line; a run it takes for synced or
    online is "No runs to sync."), so what counts is the `.wandb.synced` marker it writes beside each
    transaction log once that log is on the server."""
    logs = [f for run in runs for f in run.glob("*.wandb")]

    def synced() -> bool:
        return bool(logs) and all(f.with_name(f.name + ".synced").exists() for f in logs)

    if synced():
        return "already", ""
    try:
        proc = subprocess.run([*cli, "sync", *map(str, runs)], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=SYNC_TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "failed", f"wandb sync did not finish within {SYNC_TIMEOUT_S} s"
    if proc.returncode == 0 and synced():
        return "uploaded", ""
    said = [" ".join(line.split()) for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
    errors = [line for line in said if "ERROR" in line]
    return "failed", ((errors or said or [f"wandb sync: exit code {proc.returncode}"])[-1])[:200]
