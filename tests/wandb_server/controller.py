"""The sweep controller: what W&B's server decides on each agent heartbeat. It picks runs with W&B's
own `sweeps` package (`next_run` for grid, random and bayes; `stop_runs` for hyperband), as their
server does, and keeps W&B's documented run-queue rules:

- one run at a time per agent; a run the agent no longer reports has ended (its process is gone);
- a run that ended *preempted* (it called `run.mark_preempting()` and exited non-zero or without
  a status) goes on the sweep's run queue and is handed out again, same run id and args, before
  any new run (docs: "Resume preemptible Sweeps runs");
- a run the server asked to stop (`ServerRun.stop_requested`: hyperband, or a test playing the UI's
  Stop button) ends *killed*, whatever it marked itself: the server knows it asked, the client can't
  tell the two apart (both end with a signal and a non-zero exit), so it is never requeued;
- the sweep is FINISHED when the search has nothing left and every run of it has ended; agents
  then get `exit`. CANCELED sends `exit` at once (the agent kills its runs); PAUSED, or a FINISHED
  sweep whose runs still run, sends nothing (the agent keeps polling, its runs go on)."""

from __future__ import annotations

import time
import warnings
from typing import Any

with warnings.catch_warnings():  # the sweeps package's pydantic-v1-style model warns at import
    warnings.simplefilter("ignore")
    import sweeps

from tests.wandb_server.store import ServerRun, Store

ENDED = ("finished", "failed", "crashed", "killed")  # sweeps.run_state_is_terminal's states
IN_FLIGHT = ("pending", "running", "preempting")


def plain(value: Any) -> Any:
    """The sweeps package returns numpy scalars; JSON and YAML want Python's."""
    return value.item() if hasattr(value, "item") else value


def runs_of(store: Store, sweep) -> list[ServerRun]:
    """The sweep's runs in creation order: those it scheduled and any that upserted with its id."""
    return sorted(
        (r for r in store.runs.values() if (r.entity, r.project, r.sweep) == sweep.key), key=lambda r: r.created_at
    )


def end_state(run: ServerRun) -> str:
    """W&B's rule for how a sweep run ended, from what the server knows. A stop the server asked for
    wins over anything the client marked: killed, as a run stopped from W&B's UI ends. Exit 0 is
    finished, even when marked preempting. A process gone without an exit is crashed, or preempted
    if it had marked itself preempting (W&B's "no status" case)."""
    if run.stop_requested:
        return "killed"
    if run.exitcode == 0:
        return "finished"
    if run.state in IN_FLIGHT:
        return "preempted" if run.state == "preempting" else "crashed"
    return run.state


def settle(store: Store, sweep, gone: set[str] = frozenset()) -> None:
    """Apply W&B's end rule to the runs the sweep started once they ended: the file stream's last
    word (runs.py) is corrected where the server knows better (it asked for a stop), and a run in
    `gone` (its agent no longer reports it) that never sent an exit (killed by a signal) ends now,
    not after W&B's five silent minutes. Preempted runs join the sweep's run queue."""
    for run in runs_of(store, sweep):
        if run.name not in sweep.args:  # a prior run (wandb sweep -R): the sweep only reads it
            continue
        if run.state not in IN_FLIGHT or run.name in gone:
            run.state = end_state(run)
        if run.state == "preempted" and run.name not in sweep.queue:
            sweep.queue.append(run.name)  # W&B's sweep run queue


def sweep_runs(store: Store, sweep) -> list[sweeps.SweepRun]:
    """The runs as the `sweeps` package sees them ({"key": {"value": v}} configs, metric history)."""
    return [
        sweeps.SweepRun(
            name=r.name,
            state=r.state if r.state in sweeps.RunState.__members__ else "pending",
            config={k: {"value": v} for k, v in r.config.items() if not k.startswith("_")},
            summary_metrics=r.summary,
            history=r.history,
            stopped=r.stop_requested and r.state in ENDED,
            should_stop=r.stop_requested,
        )
        for r in runs_of(store, sweep)
    ]


def early_terminate(store: Store, sweep) -> None:
    """Hyperband: mark the running runs it would stop; their agents get `stop` on the next heartbeat
    and the runs' own stop poll (the file stream's `stopped`) sees it too."""
    if "early_terminate" not in sweep.config:
        return
    try:
        to_stop = sweeps.stop_runs(sweep.config, sweep_runs(store, sweep))
    except ValueError as e:  # a config the sweeps package refuses
        return _failed(store, sweep, e)
    for stopped in to_stop:
        store.runs[(*sweep.key[:2], stopped.name)].stop_requested = True


def _suggest(store: Store, sweep) -> sweeps.SweepRun | None:
    """The search's next point, or None when it has nothing left (a grid done, or run_cap reached)."""
    cap = sweep.config.get("run_cap")
    if cap is not None and len(runs_of(store, sweep)) >= cap:
        return None
    try:
        return sweeps.next_run(sweep.config, sweep_runs(store, sweep))
    except ValueError as e:  # e.g. bayes without a metric: W&B's server would show the sweep failing
        return _failed(store, sweep, e)


def _failed(store: Store, sweep, error: Exception) -> None:
    """The search can't go on: fail the test that made the sweep, naming why (the agent would only
    log the heartbeat's error and poll forever)."""
    store.unknown.append(f"sweep {sweep.name}: the sweeps package refused its config: {error}")


def _new_run(store: Store, sweep) -> ServerRun | None:
    """The next run, created pending with its params (as W&B's server does before the agent starts
    it), or None when the search has nothing left."""
    suggestion = _suggest(store, sweep)
    if suggestion is None:
        return None
    entity, project, _ = sweep.key
    run = store.run(entity, project, store.new_id("sr"))  # 8 characters, like W&B's run ids
    run.sweep = sweep.name
    run.config = {k: plain(v["value"]) for k, v in suggestion.config.items()}
    sweep.args[run.name] = {k: {"value": v} for k, v in run.config.items()}
    return run


def refresh(store: Store, sweep) -> None:
    """What W&B's controller does on its own clock: settle ended runs, early-terminate, and mark the
    sweep FINISHED once the search has nothing left and every run has ended."""
    settle(store, sweep)
    early_terminate(store, sweep)
    if (
        sweep.state == "RUNNING"
        and not sweep.queue
        and all(r.state in ENDED for r in runs_of(store, sweep))
        and _suggest(store, sweep) is None
    ):
        sweep.state = "FINISHED"


def _command(run: ServerRun, sweep, kind: str) -> dict:
    """A `run` (or, for a requeued run, `resume`) command; the agent renders `args` as --key=value.
    A requeued run gets the args it first got, not its config now (a program may add to that)."""
    return {"type": kind, "run_id": run.name, "program": sweep.config.get("program"), "args": sweep.args[run.name]}


def heartbeat(store: Store, sweep, agent, running: list[str]) -> list[dict]:
    """The commands for one agent heartbeat. `running`: the run ids its processes still run."""
    gone = set(agent.running) - set(running)  # handed or running at the last beat, not now: ended
    agent.running = list(running)
    agent.heartbeat_at = time.time()
    settle(store, sweep, gone)
    refresh(store, sweep)
    entity, project, _ = sweep.key
    commands = [
        {"type": "stop", "run_id": rid}
        for rid in running
        if (r := store.runs.get((entity, project, rid))) is not None and r.stop_requested
    ]
    if sweep.state == "CANCELED":
        return commands + [{"type": "exit"}]
    if running:  # W&B gives an agent its next run only once its current one ended
        return commands
    if sweep.state == "RUNNING":
        if sweep.queue:  # requeued (preempted) runs come first, same id and args
            run = store.runs[(entity, project, sweep.queue.pop(0))]
            run.state, run.exitcode = "pending", None
            kind = "resume"
        else:
            run, kind = _new_run(store, sweep), "run"
        if run is not None:
            agent.runs.append(run.name)
            agent.running.append(run.name)  # expected in its next report, unless it ended already
            return commands + [_command(run, sweep, kind)]
        refresh(store, sweep)  # nothing to hand out: finished, if every run has ended
    if sweep.state == "FINISHED":
        return commands + [{"type": "exit"}]
    return commands  # paused, or waiting for another agent's runs to end (one may be requeued)
