"""Run a sweep with no server: claim a trial, start it as the agent would, watch it, record what happened.

One loop in one thread. Each pass: reap trials whose processes are all gone, start trials in free
worker slots, copy running trials' progress from their run directories into the state, and ask
hyperband (when the sweep has `early_terminate`) which running trials to stop. Every change to the
state happens under the state's lock, so several runners (one per node) can share one DIR.

SIGINT/SIGTERM: every trial's process group gets SIGTERM (train.py stops at its next step, keeps its
checkpoint, exits 75), the trials are marked preempted, and the runner exits 75. A second signal, or
trials still alive after the grace period, get SIGKILL. Re-running the same command continues.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from genlat.errors import EXIT_OK, EXIT_PREEMPTED
from genlat.keys import SWEEP_METRIC_ENV
from genlat.records import Damaged
from genlat.sweep import procs
from genlat.sweep.command import render, runner_path
from genlat.sweep.display import SweepDisplay
from genlat.sweep.search import propose, to_stop
from genlat.sweep.spec import SweepSpec
from genlat.sweep.state import Sweep, SweepState
from genlat.sweep.trial import HEARTBEAT_S, Owner, Trial, host, now_iso


@dataclass
class Active:
    trial: Trial  # the claimed trial (a copy; the state holds the truth)
    proc: subprocess.Popen
    slot: int
    t0: float = field(default_factory=time.monotonic)
    stop: str | None = None  # "preempted" (the runner was stopped) or "stopped" (hyperband)
    stop_sent: float | None = None
    rc: int | None = None
    exited: float | None = None
    metrics_mtime: float = 0.0
    status_before: int | None = None  # status.json's mtime at the start: an older status is not this attempt's
    epoch_before: int = 0  # the trial's last finished epoch when this attempt started


def visible_gpus() -> list[str]:
    """The GPUs trials may use: CUDA_VISIBLE_DEVICES when set, else what nvidia-smi lists (no torch import)."""
    cvd = os.environ.get("CUDA_VISIBLE_DEVICES")
    if cvd is not None:
        return [d.strip() for d in cvd.split(",") if d.strip() and d.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(l for l in out.splitlines() if l.startswith("GPU "))]


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Runner:
    def __init__(self, spec: SweepSpec, state: SweepState, workers: int = 1, count: int | None = None,
                 retries: int = 1, grace_s: float = 120.0, poll_s: float = 0.25, display: SweepDisplay | None = None):  # fmt: skip
        self.spec, self.state, self.workers, self.retries = spec, state, workers, retries
        self.sweep_config = spec.sweep_config()
        self.cap = min([c for c in (count, spec.run_cap) if c] or [0]) or None
        self.grace_s, self.poll_s = grace_s, poll_s
        self.display = display or SweepDisplay(spec.varying, spec.best.name)
        self.gpus = visible_gpus()
        self.threads = max(1, cpu_count() // workers)
        self.cwd = os.getcwd()  # `program` resolves from here, as with `wandb agent`
        self.active: dict[str, Active] = {}
        self.interrupts = 0
        self.started = 0
        self.last_heartbeat = 0.0
        self.next_claim = 0.0
        sweep = state.load()
        self.sweep_id, self.group = sweep.sweep_id, sweep.wandb_group

    # --- the loop -------------------------------------------------------------------------------
    def run(self) -> int:
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            with self.display:
                self.display.event(self._opening_line())
                while True:
                    self._reap()
                    if self.interrupts:
                        self._stop_all()
                        if not self.active:
                            break
                    else:
                        self._fill()
                        if not self.active:
                            break
                    self._watch()
                    self.display.show(list(self.active.values()))
                    time.sleep(self.poll_s)
        finally:
            for s, h in old.items():
                signal.signal(s, h)
        return EXIT_PREEMPTED if self.interrupts else EXIT_OK

    def _on_signal(self, signum, frame):
        self.interrupts += 1
        if self.interrupts == 1:
            self.display.event(f"{signal.Signals(signum).name}: stopping the running trials (they stay resumable)")
        else:
            self.display.event("second signal: killing the running trials")
            for a in self.active.values():
                procs.signal_group(a.proc.pid, signal.SIGKILL)

    def _opening_line(self) -> str:
        where = f"GPUs {','.join(self.gpus)}" if self.gpus else f"CPU, {self.threads} thread(s) per trial"
        cap = f"{self.cap} trials" if self.cap else ("until the grid is done" if self.spec.method == "grid" else "until stopped (no --count)")
        return f"sweep {self.spec.name!r} ({self.spec.method}) in {self.state.root}: {self.workers} worker(s), {where}, {cap}"

    # --- claiming and starting trials -----------------------------------------------------------
    def _fill(self) -> None:
        while len(self.active) < self.workers and time.monotonic() >= self.next_claim:
            if not self._claim_and_start():
                self.next_claim = time.monotonic() + 1.0  # nothing to do now; ask again in a second
                return

    def _claim_and_start(self) -> bool:
        slot = min(set(range(self.workers)) - {a.slot for a in self.active.values()})
        with self.state.transaction() as sweep:
            self._reclaim_stale(sweep.trials)
            trial = self._pick(sweep)
            if trial is None:
                return False
            trial.claim(Owner.me())
            before = _mtime(self.state.run_dir(trial).status)
            try:
                proc = self._start(trial, slot)
            except OSError as e:
                trial.state, trial.failures, trial.owner, trial.error = "failed", trial.failures + 1, None, f"cannot start: {e}"
                self.display.event(f"{trial.name}: cannot start: {e}")
                return True
            trial.owner.pgid = proc.pid  # start_new_session: the launcher leads the group
            self.active[trial.name] = Active(copy.deepcopy(trial), proc, slot, status_before=before, epoch_before=trial.epoch)
        self.started += 1
        what = "resume" if trial.attempts > 1 else "start"
        params = " ".join(f"{k}={v}" for k, v in trial.params.items() if k in self.spec.varying)
        self.display.event(f"{what} {trial.name} ({params or 'fixed parameters'}) on worker {slot}")
        return True

    def _pick(self, sweep: Sweep) -> Trial | None:
        """Interrupted trials first, then failed ones with retries left, then a new one from the search."""
        trials = sweep.trials
        for want in ("preempted", "pending"):
            for t in trials:
                if t.state == want:
                    return t
        for t in trials:
            if t.state == "failed" and t.failures <= self.retries:
                return t
        if self.cap is not None and len(trials) >= self.cap:
            return None
        proposal = propose(self.sweep_config, trials, self.spec.best)
        if proposal is None:
            return None
        params, info = proposal
        trial = Trial.new(len(trials), params, self.spec.varying, info)
        trials.append(trial)
        return trial

    def _reclaim_stale(self, trials: list[Trial]) -> None:
        """Trials marked running whose runner is gone (killed, node lost) become preempted, to resume.
        Their processes, when still alive on this host, are stopped first: one run directory, one writer."""
        for t in trials:
            if t.state != "running" or t.name in self.active or t.owner_alive():
                continue
            pgid = t.owner.pgid if t.owner else None
            if pgid and t.owner.on_this_host() and procs.group_alive(pgid):
                self.display.event(f"{t.name}: its runner is gone but the trial still runs; stopping it")
                procs.terminate_group(pgid, self.grace_s)
            t.refresh(self.state.run_dir(t), self.spec.best)
            t.preempt("its runner went away; resumes")

    def _start(self, trial: Trial, slot: int) -> subprocess.Popen:
        argv = render(self.spec.command, self.spec.program, trial.params)
        argv += ["--out", str(self.state.runs.resolve()), "--name", trial.name, "--wandb_group", self.group]
        for key in ("project", "entity"):  # online, the sweep's project and entity win over train.py's flags
            if self.spec.config.get(key):
                argv += [f"--wandb_{key}", str(self.spec.config[key])]
        log = self.state.log_path(trial)
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as f:
            f.write(f"=== {now_iso()} attempt {trial.attempts} on {host()} worker {slot}: {shlex.join(argv)}\n")
        return procs.start(argv, self._env(trial, slot), self.cwd, log)

    def _env(self, trial: Trial, slot: int) -> dict[str, str]:
        env = dict(os.environ)
        # Not WANDB_SWEEP_ID: an offline run that names a sweep fails to sync to a server that does not know
        # that sweep ("sweep ... not found", wandb issue #8115), and `wandb sync` cannot create one. The
        # sweep's own group (NAME-SWEEP_ID) and the tag sweep-SWEEP_ID (GENLAT_SWEEP_ID) tie its trials together.
        for key in ("WANDB_SWEEP_ID", "WANDB_SWEEP_PARAM_PATH"):
            env.pop(key, None)
        env.update(
            WANDB_RUN_ID=trial.id,
            WANDB_DIR=str(self.state.run_dir(trial).path.resolve()),
            GENLAT_SWEEP_ID=self.sweep_id,
            GENLAT_TRIAL=trial.name,
            PATH=runner_path(env.get("PATH")),
            PYTHONUNBUFFERED="1",
        )
        env[SWEEP_METRIC_ENV] = json.dumps({"name": self.spec.best.name, "goal": self.spec.best.goal})  # what ranks it
        env.setdefault("WANDB_MODE", "offline")
        if "OMP_NUM_THREADS" not in os.environ:  # K trials on C cores: C/K threads each, or they thrash
            env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(self.threads)
        if self.gpus and self.workers > 1:  # one GPU per worker, round robin; one worker keeps them all
            env["CUDA_VISIBLE_DEVICES"] = self.gpus[slot % len(self.gpus)]
        return env

    # --- watching and reaping -------------------------------------------------------------------
    def _reap(self) -> None:
        for name, a in list(self.active.items()):
            if a.rc is None:
                a.rc = a.proc.poll()
                if a.rc is None:
                    continue
                a.exited = time.monotonic()
            if procs.group_alive(a.proc.pid):  # the launcher is gone; its ranks are still finishing
                if time.monotonic() - a.exited > self.grace_s:
                    procs.signal_group(a.proc.pid, signal.SIGKILL)
                continue
            self._record(a)
            del self.active[name]
            # a slot is free: claim now, not after the 1 s back-off, or the loop would see no active
            # trial and end the sweep with this one (e.g. preempted on its own) left to resume
            self.next_claim = 0.0

    def _record(self, a: Active) -> None:
        run = self.state.run_dir(a.trial)
        fresh = _mtime(run.status) not in (None, a.status_before)
        status = read_status(run) if fresh else {}
        with self.state.transaction() as sweep:
            trial = sweep.trial(a.trial.name)
            trial.refresh(run, self.spec.best)
            outcome, error = self.outcome(a, status, trial.epoch, self.state.log_path(a.trial))
            trial.end(outcome, a.rc, error, time.monotonic() - a.t0)
        metric = f"  {self.spec.best.name}={trial.best:.4g}" if trial.best is not None else ""
        note = f"  ({error})" if error else ""
        self.display.event(f"{outcome} {trial.name} after {time.monotonic() - a.t0:.1f}s, epoch {trial.epoch}{metric}{note}")

    @staticmethod
    def outcome(a: Active, status: dict, epoch: int, log_path: Path) -> tuple[str, str]:
        """What happened, from the run's own status.json first: `accelerate launch` turns every
        non-zero exit of train.py into 1, so the exit code alone cannot tell preempted from failed.
        A diverged trial is a result, like a finished one: it is never retried."""
        state = status.get("state")
        if state == "finished":
            return "finished", ""
        if a.stop == "stopped":
            return "stopped", "stopped by hyperband"
        if state == "diverged":
            return "diverged", status.get("reason") or "training diverged"
        if a.stop == "preempted" or a.rc == EXIT_PREEMPTED or state == "preempted":
            return "preempted", ""
        if a.rc == 0:
            return "finished", ""
        if a.rc == -signal.SIGTERM:  # a stop request that came before train.py could install its handler
            return "preempted", "stopped by SIGTERM while starting; resumes"
        if a.rc is not None and a.rc < 0 and epoch > a.epoch_before:
            # killed from outside (a scheduler, the OOM killer) after it had checkpointed progress: an
            # interruption, resumed like a preemption; one killed before any progress counts as a failure,
            # so a trial that is killed every time it starts is given up after --retries
            return "preempted", f"killed by {signal.Signals(-a.rc).name} after epoch {epoch}; resumes"
        return "failed", _failure_line(log_path, a.rc)

    def _watch(self) -> None:
        """Copy progress into the state (others' searches see it), beat the heart, apply hyperband."""
        changed = {}
        for a in self.active.values():
            run = self.state.run_dir(a.trial)
            try:
                mtime = run.metrics.stat().st_mtime
            except FileNotFoundError:
                continue
            if mtime != a.metrics_mtime:
                a.metrics_mtime = mtime
                if a.trial.refresh(run, self.spec.best):
                    changed[a.trial.name] = a.trial
        beat = time.monotonic() - self.last_heartbeat > HEARTBEAT_S
        if not changed and not beat:
            return
        self.last_heartbeat = time.monotonic()
        with self.state.transaction() as sweep:
            for a in self.active.values():
                t = sweep.trial(a.trial.name)
                if t.state != "running":
                    continue
                t.heartbeat = time.time()
                t.progress_from(a.trial)
            stop = to_stop(self.sweep_config, sweep.trials, self.spec.best) if changed and self.spec.early_terminate else []
        for name in stop:
            a = self.active.get(name)
            if a and a.stop is None and a.rc is None:
                a.stop, a.stop_sent = "stopped", time.monotonic()
                procs.signal_group(a.proc.pid, signal.SIGTERM)
                self.display.event(f"hyperband stops {name} after epoch {a.trial.epoch}")

    def _stop_all(self) -> None:
        for a in self.active.values():
            if a.stop_sent is None:
                a.stop = a.stop or "preempted"
                a.stop_sent = time.monotonic()
                procs.signal_group(a.proc.pid, signal.SIGTERM)
            elif time.monotonic() - a.stop_sent > self.grace_s:
                procs.signal_group(a.proc.pid, signal.SIGKILL)


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def read_status(run) -> dict:
    """The run's status.json, {} when it is missing or damaged."""
    try:
        return run.read_status() or {}
    except Damaged:
        return {}


def _failure_line(log: Path, rc: int | None) -> str:
    """The trial's own one-line error when it printed one, else its exit code; the log has the rest."""
    try:
        lines = log.read_text(errors="replace").splitlines()[-200:]
    except OSError:
        lines = []
    errors = [l.strip() for l in lines if l.startswith("genlat: error:")]
    what = errors[-1] if errors else f"exit code {rc}"
    return f"{what[:200]} (log: {log})"
