"""The training-speed benchmark runs end to end on a tiny problem: JSON fields, the last line, and
the FLOP saving genlat's step makes over the reference (G's step computes no gradient for D's
weights). Speed itself is not asserted: it depends on the machine."""

import json
import re

import pytest

from benchmarks.genlat_side import GenlatLoop
from benchmarks.timing import interleave, paired_ratios, summarize
from benchmarks.train_speed import build_parser, check_args, main, make_config

TINY = [
    "--device",
    "cpu",
    "--image_size",
    "32",
    "--batch_size",
    "8",
    "--zn",
    "8",
    "--ngf",
    "8",
    "--ndf",
    "8",
    "--steps",
    "2",
    "--repeats",
    "2",
    "--threads",
    "1",
    "--eval_samples",
    "16",
    "--epoch_images",
    "640",
]


def test_interleave_alternates_and_takes_medians():
    calls = []

    def runner(name, seconds):
        def run(steps):
            calls.append((name, steps))
            return steps * 10, seconds

        return run

    rates, cpu_rates = interleave({"a": runner("a", 1.0), "b": runner("b", 2.0)}, steps=3, repeats=3, warmup_steps=1)
    assert calls == [("a", 1), ("b", 1), ("a", 3), ("b", 3), ("b", 3), ("a", 3), ("a", 3), ("b", 3)]
    assert rates == {"a": [30.0] * 3, "b": [15.0] * 3}
    assert all(len(v) == 3 and min(v) > 0 for v in cpu_rates.values())
    assert summarize(paired_ratios(rates["a"], rates["b"]))["median"] == 2.0
    s = summarize([1.0, 4.0, 2.0])
    assert (s["median"], s["min"], s["max"], s["spread"]) == (2.0, 1.0, 4.0, 1.5)


def test_benchmark_writes_results_and_ends_with_the_ratio(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main([*TINY, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"genlat/reference images/s ratio: \d+\.\d\d", lines[-1])
    r = json.loads(out.read_text())
    assert f"{r['ratio_with_tracking']:.2f}" == lines[-1].rsplit(" ", 1)[1]
    for side in ("genlat", "reference"):
        assert r["images_per_s"][side]["n"] == 2 and r["images_per_s"][side]["median"] > 0
        assert r["memory"]["peak_bytes"][side] > 0
    # the same networks and batch; the reference's G step also back-propagates into D's weights
    assert 0 < r["flops"]["per_step"]["genlat"] < r["flops"]["per_step"]["reference"]
    assert r["ratio"]["n"] == 2 and r["ratio_cpu_time"]["median"] > 0
    e = r["epoch"]  # the per-epoch costs, each as seconds and as a share of the epoch's training time
    assert e["train_s"] == pytest.approx(640 / r["images_per_s"]["genlat"]["median"])  # --epoch_images 640
    for part in ("tracking", "checkpoint", "eval", "claims"):
        assert e[f"{part}_s"] > 0 and e[f"{part}_share"] == pytest.approx(e[f"{part}_s"] / e["train_s"]), part
    assert e["claims_s"] < e["eval_s"]  # the claims' measures are a part of the evaluation
    step = r["ratio"]["median"]  # each cost only adds to genlat's epoch: the ratio with it is the step's, scaled down
    assert r["ratio_with_tracking"] == pytest.approx(step / (1 + e["tracking_share"]))
    assert r["ratio_with_tracking_checkpoint_eval"] == pytest.approx(
        step / (1 + e["tracking_share"] + e["checkpoint_share"] + e["eval_share"])
    )
    assert r["renderer"]["images_per_s"] > 0 and r["renderer"]["times_training"] > 0
    assert r["flops"]["achieved_per_s"] > 0 and r["flops"]["bf16_peak_per_s"] is None  # the CPU has no known peak
    assert r["settings"]["config"]["ngf"] == 8
    # it measures what a run does by default: auto precision, resolved and said
    assert r["settings"]["mixed_precision"] == "auto" and r["settings"]["resolved"]["mixed_precision"] in ("bf16", "no")
    assert lines[-2].startswith("genlat ran in ") and r["settings"]["resolved"]["source"].startswith("auto:")
    w = r["run"]  # one real 1-epoch run in a fresh process: its fixed cost
    assert w["precision"] == r["settings"]["resolved"]["mixed_precision"]
    assert 0 < w["fixed_wall_s"] < w["run_wall_s"] and w["train_s"] > 0 and w["imports_cpu_s"] > 0


def test_benchmark_refuses_a_bad_flag_in_one_line(capsys):
    assert main(["--zn", "0"]) == 2
    assert main(["--device", "tpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("genlat: error: --zn=0") and len(err) == 2


def test_g_step_leaves_d_weight_grads_empty(tmp_path):
    """D's gradients are cleared right after D's optimizer step; the G half of the step that follows
    must not fill them again (it back-propagates into G's weights alone)."""
    args = build_parser().parse_args(TINY)
    check_args(args)
    loop = GenlatLoop(make_config(args, tmp_path))
    trainer = loop.trainer
    d_step = trainer.opt_d.step

    def step_then_clear(*a, **kw):
        out = d_step(*a, **kw)
        for p in trainer.d.parameters():
            p.grad = None
        return out

    trainer.opt_d.step = step_then_clear
    loop.eager_step()()
    loop.close()
    assert all(p.grad is None for p in trainer.d.parameters())
    assert all(p.grad is not None for p in trainer.g.parameters())  # G's step did run
