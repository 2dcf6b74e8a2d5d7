"""What a default run costs and prints beyond its training (issue 22): no warning a user cannot act
on, and no `torch._dynamo` import (≈ 1 CPU-s of every run's start) when nothing is compiled."""

import json
import subprocess
import sys

from tests.helpers import ROOT, TINY, child_env, metrics_rows, only_run

PROBE = """
import sys, runpy
sys.argv = ["train.py", *sys.argv[1:]]
try:
    runpy.run_path("train.py", run_name="__main__")
finally:
    print(json.dumps({"dynamo": "torch._dynamo" in sys.modules}), file=sys.stdout)
"""


def run_tiny(tmp_path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    """A default tiny run (evaluation, the Jacobian measure and W&B offline included) through train.py
    in a fresh process; what it printed, and whether torch._dynamo was imported by its end."""
    code = "import json\n" + PROBE
    proc = subprocess.run(
        [sys.executable, "-c", code, *TINY, "--epochs", "1", "--out", str(tmp_path / "runs"), *extra],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    return proc, probe


def test_a_default_run_prints_no_warning_and_imports_no_dynamo(tmp_path):
    proc, probe = run_tiny(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = metrics_rows(only_run(tmp_path / "runs"))[-1]
    assert "eval/jacobian_dims90" in row and "eval/fd" in row  # the measures that used to warn did run
    # torch's forward-mode AD used to print "FutureWarning: `torch.jit.script` is deprecated" here
    assert "Warning" not in proc.stderr and "warnings.warn" not in proc.stderr, proc.stderr
    assert not probe["dynamo"]  # neither the optimizers, Accelerate's unwrap nor the Jacobian imported it


def test_a_vae_run_imports_no_dynamo_either(tmp_path):
    proc, probe = run_tiny(tmp_path, "--model", "vae")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "eval/jacobian_dims90" in metrics_rows(only_run(tmp_path / "runs"))[-1]
    assert not probe["dynamo"] and "Warning" not in proc.stderr, proc.stderr
