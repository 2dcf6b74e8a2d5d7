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
from genlat.sweep.state import SweepState, owner_alive, refresh_from_run
from genlat.wandb_access import base_url, has_wandb_login, server_problem

SYNC_TIMEOUT_S = 900


def _varying(state: SweepState, trials: list[dict]) -> list[str]:
    try:
        return load_spec(state.spec_copy, check_program=False).varying
    except SweepFileError:
        keys = {k for t in trials for k in t["params"]}
        return sorted(k for k in keys if len({repr(t["params"].get(k)) for t in trials}) > 1)


def best_trial(data: dict) -> dict | None:
    """The trial with the best of the trials' bests (each the best over its epochs, genlat.keys.Best)."""
    best = Best.of(data.get("metric"))
    scored = [{"epoch": i, best.name: t["best"]} for i, t in enumerate(data["trials"]) if t.get("best") is not None]
    index = best.epoch(scored)
    return data["trials"][index] if index is not None else None


def print_status(root: str | Path, console: Console | None = None) -> int:
    state = SweepState(root)
    data = state.require("--status")
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    best = Best.of(data.get("metric"))
    trials = data["trials"]
    for t in trials:  # running trials: their newest epochs are in their run directories
        if t["state"] == "running":
            refresh_from_run(t, state.run_dir(t), best)
            if not owner_alive(t["owner"], t["heartbeat"]):
                t["state"] = "running?"  # its runner is gone; the next run of the sweep resumes it
    varying = _varying(state, trials)
    table = Table(title=escape(f"sweep {data['name']!r} ({data['method']}) in {state.root}"), title_justify="left")
    for col in ("trial", "state", *varying, "epoch", f"{best.name} ({best.summary})", "attempts", "time", "synced"):
        table.add_column(col, overflow="fold")
    for t in trials:
        table.add_row(
            escape(t["name"]), t["state"], *(escape(_fmt(t["params"].get(k))) for k in varying), f"{t['epoch']}/{t.get('epochs') or '?'}",
            _fmt(t["best"]) if t.get("best") is not None else "-", str(t["attempts"]), f"{t['seconds']:.0f}s",
            "yes" if t.get("synced") else "",
        )  # fmt: skip
    console.print(table)
    for line in summary_lines(data, state):
        console.print(line, highlight=False, markup=False)
    return 0


def summary_lines(data: dict, state: SweepState) -> list[str]:
    counts = Counter(t["state"] for t in data["trials"])
    lines = [f"{len(data['trials'])} trial(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
    best = best_trial(data)
    metric = Best.of(data.get("metric")).name
    varying = _varying(state, data["trials"])
    if best:
        lines.append(f"best: {best['name']}  {metric}={best['best']:.6g}  "
                     f"({', '.join(f'{k}={v}' for k, v in best['params'].items() if k in varying)})  "
                     f"{state.runs / best['name']}")  # fmt: skip
    elif any(t["state"] in ("finished", "stopped") for t in data["trials"]):
        lines.append(f"no trial has logged {metric!r} (see a trial's metrics.jsonl for the keys it writes)")
    for what in ("failed", "diverged"):  # why, for the trials that did not end well
        for t in [t for t in data["trials"] if t["state"] == what][:5]:
            lines.append(f"{what}: {t['name']}: {t['error']}")
    return lines


def closing_lines(data: dict, state: SweepState, interrupted: bool) -> list[str]:
    lines = summary_lines(data, state)
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
        raise OfflineError(f"cannot reach W&B at {base_url()} ({problem}); run --sync again once this machine is online")
    return base_url()


def sync(root: str | Path, console: Console | None = None) -> int:
    state = SweepState(root)
    state.require("--sync")  # refuses a folder that is not a sweep before anything else
    console = console or Console(stderr=True)
    base = check_online()
    wandb_cli = Path(sys.executable).parent / "wandb"
    cli = [str(wandb_cli)] if wandb_cli.exists() else ["wandb"]
    env = {k: v for k, v in os.environ.items() if k != "WANDB_MODE"}
    done = failed = 0
    for t in state.read()["trials"]:
        runs = sorted(state.run_dir(t).wandb.glob("offline-run-*")) if t["state"] != "running" else []
        if t.get("synced") or not runs:
            continue
        console.print(f"syncing {t['name']} ({len(runs)} offline run folder(s)) to {base}", highlight=False, markup=False)
        try:
            proc = subprocess.run([*cli, "sync", *map(str, runs)], env=env, stdin=subprocess.DEVNULL, timeout=SYNC_TIMEOUT_S)
            ok = proc.returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
        if ok:
            done += 1
            with state.locked() as data:
                next(x for x in data["trials"] if x["name"] == t["name"])["synced"] = True
        else:
            failed += 1
            console.print(f"[warning] wandb sync failed for {t['name']}; --sync again retries it", highlight=False, markup=False)
    console.print(f"synced {done} trial(s), {failed} failed; group {state.read()['name']!r} in the W&B project",
                  highlight=False, markup=False)
    return 0 if not failed else EXIT_UNAVAILABLE
