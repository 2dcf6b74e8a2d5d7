"""Soak: a tiny offline sweep whose runner and trial processes are killed at random, N times.

    python -m tests.soak --kills 20 [--dir DIR] [--seed S] [--workers 2]

Each kill picks at random: SIGKILL or SIGTERM, to the runner or to one running trial. A killed
runner is started again (the same command), as a job scheduler would. After the N kills the runner
runs to the end, then the soak checks what a user would: every trial finished (trials lost must be
0), each run's metrics.jsonl holds every epoch exactly once, every checkpoint loads with
weights_only=True, no temp file is left; and it counts the epochs trained twice (the work a kill cost,
from the trials' logs). Prints a summary and writes DIR/soak.json; exits 1 when anything was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ZNS = (8, 16, 24, 32)
EPOCHS = 3  # per trial, by default; --epochs makes the sweep long enough for many kills on a fast machine
PARAMS = {
    "image_size": 32,
    "epoch_size": 512,
    "batch_size": 16,
    "ngf": 8,
    "ndf": 8,
    "n_samples": 16,
    "grid_nrow": 4,
    "interp_pairs": 2,
    "interp_steps": 4,
    "log_every": 4,
    "eval_every": 0,
}
EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+)  ")  # the end-of-epoch line train.py prints


def write_sweep(path: Path, epochs: int) -> Path:
    config = {
        "name": "soak",
        "program": "train.py",
        "method": "grid",
        "metric": {"name": "epoch/loss_g", "goal": "minimize"},
        "parameters": {
            **{k: {"value": v} for k, v in {**PARAMS, "epochs": epochs}.items()},
            "zn": {"values": list(ZNS)},
        },
        "command": ["${env}", "${interpreter}", "${program}", "${args}"],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def environment(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_CONFIG_DIR=str(root / "wandb-config"),
        WANDB_CACHE_DIR=str(root / "wandb-cache"),
        GENLAT_OFFLINE="1",
        PYTHONPATH=str(ROOT),
    )
    return env


class Soak:
    def __init__(self, root: Path, kills: int, workers: int, rng: random.Random, retries: int, epochs: int = EPOCHS):
        self.root, self.kills, self.rng, self.epochs = root, kills, rng, epochs
        self.sweep_dir = root / "sweep"
        self.sweep = write_sweep(root / "soak.yaml", epochs)
        self.argv = [
            sys.executable,
            "-m",
            "genlat",
            "sweep",
            str(self.sweep),
            "--dir",
            str(self.sweep_dir),
            "--workers",
            str(workers),
            "--retries",
            str(retries),
            "--grace",
            "60",
        ]
        self.env = environment(root)
        self.runner: subprocess.Popen | None = None
        self.log = open(root / "runner.log", "ab")
        self.done: list[dict] = []  # the kills, as they happened
        self.runner_starts = 0

    def start_runner(self) -> None:
        self.runner = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL
        )
        self.runner_starts += 1

    def running_trials(self) -> list[dict]:
        try:
            trials = json.loads((self.sweep_dir / "sweep.json").read_text())["trials"]
        except (OSError, ValueError, KeyError):
            return []
        return [t for t in trials if t["state"] == "running" and (t.get("owner") or {}).get("pgid")]

    def kill_one(self) -> None:
        sig = self.rng.choice([signal.SIGKILL, signal.SIGTERM])
        trials = self.running_trials()
        if trials and self.rng.random() < 0.5:
            t = self.rng.choice(trials)
            try:
                os.kill(t["owner"]["pgid"], sig)  # the trial's train.py (it leads its process group)
            except ProcessLookupError:
                return self.kill_one()  # it ended a moment ago: pick again
            self.done.append({"target": f"trial {t['name']}", "signal": sig.name, "epoch": t["epoch"]})
            return
        self.runner.send_signal(sig)
        self.done.append({"target": "runner", "signal": sig.name})
        self.runner.wait()  # after SIGTERM it stops its trials first (they checkpoint and exit 75)

    def run(self) -> dict:
        t0 = time.monotonic()
        self.start_runner()
        while len(self.done) < self.kills:
            deadline = time.monotonic() + 120  # wait for a trial to be at work, so kills hit work in progress
            while not self.running_trials() and self.runner.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(self.rng.uniform(1.0, 20.0))  # trials start in seconds, train for tens
            if self.runner.poll() is not None:  # the sweep finished before all kills: nothing left to kill
                if self.runner.returncode == 0:
                    break
                self.start_runner()
                continue
            self.kill_one()
            print(f"kill {len(self.done)}/{self.kills}: {self.done[-1]}", flush=True)
            if self.runner.poll() is not None:
                self.start_runner()  # the same command, as a scheduler would re-run it
        for _ in range(5):  # the end: let it finish (a runner killed last has orphans to reclaim)
            if self.runner.poll() is None:
                self.runner.wait()
            if self.runner.returncode == 0:
                break
            self.start_runner()
        return self.check(time.monotonic() - t0)

    def check(self, seconds: float) -> dict:
        import torch

        from genlat.checkpoint import list_checkpoints

        state = json.loads((self.sweep_dir / "sweep.json").read_text())
        problems, trained, temp_files, checkpoints = [], 0, 0, 0
        for t in state["trials"]:
            run = self.sweep_dir / "runs" / t["name"]
            if t["state"] != "finished":
                problems.append(f"{t['name']}: {t['state']} ({t['error']})")
            lines = (run / "metrics.jsonl").read_text().splitlines() if (run / "metrics.jsonl").exists() else []
            epochs = [json.loads(line)["epoch"] for line in lines]
            if epochs != list(range(1, self.epochs + 1)):
                problems.append(f"{t['name']}: metrics.jsonl holds epochs {epochs}")
            for path in list_checkpoints(run / "checkpoints"):
                checkpoints += 1
                try:
                    torch.load(path, map_location="cpu", weights_only=True)
                except Exception as e:  # noqa: BLE001 - any failure to load is what we count
                    problems.append(f"{path}: does not load ({type(e).__name__})")
            temp_files += sum(1 for p in run.rglob(".*.tmp") if "wandb" not in p.parts)
            log = self.sweep_dir / "logs" / f"{t['name']}.log"
            text = log.read_text(errors="replace") if log.exists() else ""
            trained += sum(1 for line in text.splitlines() if EPOCH_LINE.match(line))
        if temp_files:
            problems.append(f"{temp_files} temp file(s) left in run directories")
        expected = len(ZNS) * self.epochs
        return {
            "kills": len(self.done),
            "kills_by_kind": _count(f"{k['signal']} {k['target'].split()[0]}" for k in self.done),
            "runner_starts": self.runner_starts,
            "trials": len(state["trials"]),
            "trials_finished": sum(t["state"] == "finished" for t in state["trials"]),
            "trials_lost": sum(t["state"] != "finished" for t in state["trials"]) + len(ZNS) - len(state["trials"]),
            "attempts": sum(t["attempts"] for t in state["trials"]),
            "epochs_needed": expected,
            "epochs_trained": trained,
            "epochs_repeated": trained - expected,
            "checkpoints_checked": checkpoints,
            "problems": problems,
            "seconds": round(seconds, 1),
            "log": [dict(k) for k in self.done],
        }


def _count(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=20, help="how many kills")
    p.add_argument("--dir", help="where the sweep runs (default: a new temp folder)")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill schedule")
    p.add_argument("--epochs", type=int, default=EPOCHS, help="epochs per trial (more: room for more kills)")
    p.add_argument("--workers", type=int, default=2, help="trials at once")
    p.add_argument(
        "--retries",
        type=int,
        default=3,
        help="the runner's --retries: a trial killed before it finished an epoch counts as a failure",
    )
    args = p.parse_args(argv)
    root = Path(args.dir or tempfile.mkdtemp(prefix="genlat-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    soak = Soak(root, args.kills, args.workers, random.Random(args.seed), args.retries, args.epochs)
    result = soak.run()
    (root / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    if result["kills"] < args.kills:
        print(
            f"the sweep finished after {result['kills']} of {args.kills} kills; "
            f"--epochs {args.epochs * 3} gives room for more"
        )
    print(
        f"kills survived: {result['kills']} ({', '.join(f'{n} {k}' for k, n in result['kills_by_kind'].items())}); "
        f"runner started {result['runner_starts']} times"
    )
    print(
        f"trials: {result['trials_finished']}/{len(ZNS)} finished, trials lost: {result['trials_lost']}, "
        f"attempts: {result['attempts']}"
    )
    print(
        f"epochs trained: {result['epochs_trained']} for {result['epochs_needed']} needed "
        f"(repeated: {result['epochs_repeated']}); checkpoints loadable: {result['checkpoints_checked']}"
    )
    for problem in result["problems"]:
        print(f"PROBLEM: {problem}")
    print(f"{result['seconds']:.0f}s; details: {root / 'soak.json'}, runner output: {root / 'runner.log'}")
    return 1 if result["problems"] or result["trials_lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
