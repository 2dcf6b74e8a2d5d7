"""Run a sweep with no server: claim a trial, start it as the agent would, watch it, record what happened.

One loop in one thread, and a heartbeat thread (heartbeat.py). Each pass: reap attempts whose
processes are all gone, claim and start trials in free worker slots, copy running trials' progress
from their run directories into the state, and ask hyperband (when the sweep has `early_terminate`)
which running trials to stop. Several runners (one per node) can share one DIR:

- every decision about the state (which trial to take, whether an owner is gone) is made under the
  sweep lock on a fresh read, and nothing slow happens while the lock is held: a trial is claimed
  under the lock, its process started after the lock is released, and its process group written
  down under the lock again;
- a trial whose owner is alive (its pid on this host, its heartbeat on another) is never taken over;
  one whose owner is gone is resumed; processes it left on this host are stopped first. A runner that
  dies between a claim and a start leaves a trial owned by a dead process: taken over the same way;
- this runner writes a trial only while it is still its attempt (`Trial.owned_by`); one taken over
  meanwhile has its copy stopped and nothing recorded.

SIGINT/SIGTERM: every trial's process group gets SIGTERM (train.py stops at its next step, keeps its
checkpoint, exits 75), the trials are marked preempted, and the runner exits 75. A second signal, or
trials still alive after the grace period, get SIGKILL. Re-running the same command continues.
"""

from __future__ import annotations

import copy
import os
import shlex
import signal
import time
from dataclasses import replace

from genlat.errors import EXIT_OK, EXIT_PREEMPTED
from genlat.sweep import procs
from genlat.sweep.display import SweepDisplay
from genlat.sweep.heartbeat import Heartbeat
from genlat.sweep.outcome import mtime, outcome, read_status
from genlat.sweep.procs import Attempt
from genlat.sweep.resources import Resources, command
from genlat.sweep.search import propose, to_stop
from genlat.sweep.spec import SweepSpec
from genlat.sweep.state import Sweep, SweepState
from genlat.sweep.trial import STALE_ENV, Owner, Trial, host, now_iso


class Runner:
    def __init__(self, spec: SweepSpec, state: SweepState, workers: int = 1, count: int | None = None,
                 retries: int = 1, grace_s: float = 120.0, poll_s: float = 0.25, display: SweepDisplay | None = None):  # fmt: skip
        self.spec, self.state, self.workers, self.retries = spec, state, workers, retries
        self.sweep_config = spec.sweep_config()
        self.cap = min([c for c in (count, spec.run_cap) if c] or [0]) or None
        self.grace_s, self.poll_s = grace_s, poll_s
        self.display = display or SweepDisplay(spec.varying, spec.best.name)
        self.resources = Resources(workers)
        self.cwd = os.getcwd()  # `program` resolves from here, as with `wandb agent`
        self.me = Owner.me()
        self.heart = Heartbeat(state, self.me)
        self.active: dict[str, Attempt] = {}
        self.interrupts = 0
        self.next_claim = 0.0
        sweep = state.load()
        self.sweep_id, self.group = sweep.sweep_id, sweep.wandb_group

    # --- the loop -------------------------------------------------------------------------------
    def run(self) -> int:
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            with self.display, self.heart:
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
                    self.heart.check()
                    self.display.show([a for a in self.active.values() if a.slot is not None])
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
                a.signal(signal.SIGKILL)

    def _opening_line(self) -> str:
        cap = (
            f"{self.cap} trials"
            if self.cap
            else ("until the grid is done" if self.spec.method == "grid" else "until stopped (no --count)")
        )
        return (f"sweep {self.spec.name!r} ({self.spec.method}) in {self.state.root}: {self.workers} worker(s), "
                f"{self.resources.describe()}, {cap}")  # fmt: skip

    # --- claiming and starting trials -----------------------------------------------------------
    def _fill(self) -> None:
        while self._free_slots() and time.monotonic() >= self.next_claim:
            if not self._claim_and_start():
                self.next_claim = time.monotonic() + 1.0  # nothing to do now; ask again in a second
                return

    def _free_slots(self) -> list[int]:
        return sorted(set(range(self.workers)) - {a.slot for a in self.active.values()})

    def _claim_and_start(self) -> bool:
        """Claim a trial under the lock; start it outside; write its process group down under the lock."""
        with self.state.transaction() as sweep:
            self._take_over(sweep)
            trial = self._pick(sweep)
            if trial is None:
                return False
            trial.claim(self.me)
            claimed = copy.deepcopy(trial)
        self.heart.own(claimed.name, claimed.attempts)
        self._start(claimed, self._free_slots()[0])
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

    def _take_over(self, sweep: Sweep) -> None:
        """Trials marked running whose runner is gone (killed, node lost, died between claim and start)
        are resumed. Processes they left on this host are stopped first (one run folder, one writer):
        this runner owns such a trial until they are gone, then marks it preempted (`_record`)."""
        for t in sweep.trials:
            if t.state != "running" or t.name in self.active or t.owner_alive():
                continue
            groups = self._orphan_groups(t)
            if not groups:
                t.refresh(self.state.run_dir(t), self.spec.best)
                t.preempt("its runner went away; resumes")
                continue
            self.display.event(f"{t.name}: its runner is gone but the trial still runs; stopping it")
            t.owner, t.heartbeat = replace(self.me, pgid=min(groups)), time.time()
            orphan = Attempt(copy.deepcopy(t), tuple(sorted(groups)), epoch_before=t.epoch)
            orphan.signal(signal.SIGTERM, stop="preempted")
            self.active[t.name] = orphan
            self.heart.own(t.name, t.attempts)

    def _orphan_groups(self, t: Trial) -> set[int]:
        if t.owner is None or not t.owner.on_this_host():
            return set()  # another host's processes: its run folder's lock keeps them the only writer
        return procs.trial_groups(self.sweep_id, t.name, t.owner.pgid)  # also one started just before a crash

    def _start(self, trial: Trial, slot: int) -> None:
        run = self.state.run_dir(trial)
        before = mtime(run.status)
        argv = command(self.spec, trial, self.state.runs, self.group)
        env = self.resources.env(trial, slot, self.sweep_id, run.path, self.spec.best)
        header = f"=== {now_iso()} attempt {trial.attempts} on {host()} worker {slot}: {shlex.join(argv)}\n"
        try:
            proc = procs.start(argv, env, self.cwd, self.state.log_path(trial), header)
        except OSError as e:
            with self.state.transaction() as sweep:
                t = sweep.trial(trial.name)
                if t.owned_by(self.me, trial.attempts):
                    t.state, t.failures, t.owner, t.error = "failed", t.failures + 1, None, f"cannot start: {e}"
            self.heart.disown(trial.name)
            self.display.event(f"{trial.name}: cannot start: {e}")
            return
        a = Attempt(trial, (proc.pid,), proc, slot, status_before=before, epoch_before=trial.epoch)
        self.active[trial.name] = a  # start_new_session: the launcher leads the group
        with self.state.transaction() as sweep:
            t = sweep.trial(trial.name)
            if t.owned_by(self.me, trial.attempts):
                t.owner.pgid = trial.owner.pgid = proc.pid
            else:
                self._lost(a)
        what = "resume" if trial.attempts > 1 else "start"
        params = " ".join(f"{k}={v}" for k, v in trial.params.items() if k in self.spec.varying)
        self.display.event(f"{what} {trial.name} ({params or 'fixed parameters'}) on worker {slot}")

    def _lost(self, a: Attempt) -> None:
        """Another runner owns the trial now (this one was silent longer than the stale limit): stop this copy."""
        if a.stop == "lost":
            return
        a.stop, a.stop_sent = "lost", time.monotonic()
        a.signal(signal.SIGTERM)
        self.heart.disown(a.trial.name)
        self.display.event(f"{a.trial.name}: taken over by another runner (this one was silent longer than "
                           f"{STALE_ENV}); stopping this runner's copy")  # fmt: skip

    # --- watching and reaping -------------------------------------------------------------------
    def _reap(self) -> None:
        for name in self.heart.take_lost():
            if name in self.active:
                self._lost(self.active[name])
        for name, a in list(self.active.items()):
            if not a.launcher_done():
                continue
            if a.alive():  # the launcher is gone; its ranks are still finishing (or an orphan is stopping)
                if time.monotonic() - a.exited > self.grace_s:
                    a.signal(signal.SIGKILL)
                continue
            self._record(a)
            del self.active[name]
            # a slot is free: claim now, not after the 1 s back-off, or the loop would see no active
            # trial and end the sweep with this one (e.g. preempted on its own) left to resume
            self.next_claim = 0.0

    def _record(self, a: Attempt) -> None:
        run = self.state.run_dir(a.trial)
        fresh = mtime(run.status) not in (None, a.status_before)
        status = read_status(run) if fresh else {}
        result = None
        with self.state.transaction() as sweep:
            trial = sweep.trial(a.trial.name)
            if a.stop != "lost" and trial.owned_by(self.me, a.trial.attempts):  # else another runner's to record
                trial.refresh(run, self.spec.best)
                if a.proc is None:  # an orphan, now stopped
                    trial.preempt("its runner went away; resumes")
                else:
                    result, error = outcome(a, status, trial.epoch, self.state.log_path(a.trial))
                    trial.end(result, a.rc, error, time.monotonic() - a.t0)
        self.heart.disown(trial.name)
        if result is not None:
            metric = f"  {self.spec.best.name}={trial.best:.4g}" if trial.best is not None else ""
            note = f"  ({error})" if error else ""
            self.display.event(
                f"{result} {trial.name} after {time.monotonic() - a.t0:.1f}s, epoch {trial.epoch}{metric}{note}"
            )

    def _watch(self) -> None:
        """Copy progress into the state (others' searches see it), apply hyperband."""
        changed = {}
        for a in self.active.values():
            run = self.state.run_dir(a.trial)
            try:
                stamp = run.metrics.stat().st_mtime
            except FileNotFoundError:
                continue
            if stamp != a.metrics_mtime:
                a.metrics_mtime = stamp
                if a.trial.refresh(run, self.spec.best):
                    changed[a.trial.name] = a
        if not changed:
            return
        with self.state.transaction() as sweep:
            for name, a in changed.items():
                t = sweep.trial(name)
                if t.owned_by(self.me, a.trial.attempts):
                    t.heartbeat = time.time()
                    t.progress_from(a.trial)
            stop = to_stop(self.sweep_config, sweep.trials, self.spec.best) if self.spec.early_terminate else []
        for name in stop:
            a = self.active.get(name)
            if a and a.stop is None and a.rc is None and a.proc is not None:
                a.signal(signal.SIGTERM, stop="stopped")
                self.display.event(f"hyperband stops {name} after epoch {a.trial.epoch}")

    def _stop_all(self) -> None:
        for a in self.active.values():
            if a.stop_sent is None:
                a.signal(signal.SIGTERM, stop="preempted")
            elif time.monotonic() - a.stop_sent > self.grace_s:
                a.signal(signal.SIGKILL)
