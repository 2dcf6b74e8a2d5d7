"""The report never compares numbers with different measurement stamps: runs written by hand (config,
metrics, status) in two stamp groups, one from before the stamp existed, are reported per group."""

from __future__ import annotations

import json
import re
from pathlib import Path

from analysis.report import main as report_main

STAMPED = {"eval/feature_space": "shapes-factornet-32px@3fa91c2e0b7d", "eval/samples": 256, "eval/metric_version": 1}
OLD = {"eval/feature_space": "shapes-factornet-32px@settings9f", "eval/samples": 256}  # before the stamp: no version


def write_run(root: Path, name: str, config: dict, lines: list[dict]) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"run_name": name, "epochs": len(lines), **config}))
    (d / "metrics.jsonl").write_text("".join(json.dumps({"epoch": e, **m}) + "\n" for e, m in enumerate(lines, 1)))
    (d / "status.json").write_text(json.dumps({"state": "finished", "epoch": len(lines)}))
    return d


def test_two_stamps_are_reported_apart(tmp_path):
    root = tmp_path / "runs"
    fd = {("new", 8): [10, 11, 12], ("new", 16): [50, 52, 51], ("old", 8): [1000, 1010], ("old", 16): [5, 6]}
    for (kind, zn), values in fd.items():
        for seed, v in enumerate(values):
            stamp = STAMPED if kind == "new" else OLD
            write_run(
                root,
                f"{kind}-zn{zn}-s{seed}",
                {"zn": zn, "seed": seed},
                [{**stamp, "eval/fd": v * 2}, {**stamp, "eval/fd": v}],
            )
    out = tmp_path / "out"
    assert report_main([str(root), "--out", str(out)]) == 0
    md = (out / "report.md").read_text().replace("\\", "")
    assert "The runs carry 2 different measurement stamps" in md
    assert "no metric version (written before the stamp)" in md
    g1, g2 = (
        md.split("## Group 1, Q1")[1].split("## Group 1, Q2")[0],
        md.split("## Group 2, Q1")[1].split("## Group 2, Q2")[0],
    )
    # each group its own exploratory family (one measure × one pair: BH over 1 test)
    assert (
        "Fréchet distance (exploratory, BH over 1 test): zn=8 is lower than zn=16, in 3/3 seeds" in g1
        and "1000" not in g1
        and "1,000" not in g1
    )
    assert (
        "Fréchet distance (exploratory, BH over 1 test): zn=16 is lower than zn=8, in 2/2 seeds" in g2
        and "n=3" not in g2
    )
    html = (out / "report.html").read_text()
    assert '<section id="g1-q1">' in html and '<section id="g2-q1">' in html
    assert {p.name for p in (out / "figures").glob("*.png")} >= {"g1-q1_metrics.png", "g2-q1_metrics.png"}


def test_one_seed_calls_nothing_and_no_percentage_reaches_1000(tmp_path):
    root = tmp_path / "runs"
    for zn, p in ((8, 0.0005), (16, 0.6)):  # a ratio against a value near zero: 120000 % if written as one
        write_run(root, f"zn{zn}", {"zn": zn, "seed": 0}, [{**STAMPED, "eval/precision": p, "eval/fd": 1 / p}] * 2)
    out = tmp_path / "out"
    assert report_main([str(root), "--out", str(out)]) == 0
    for text in ((out / "report.md").read_text(), (out / "report.html").read_text()):
        assert not re.search(r"\d{4,}(\.\d+)? ?%", text.replace(",", ""))
    md = (out / "report.md").read_text()
    assert (
        "Too few seeds: no pair of settings has 2+ seeds each, so no difference between settings can be called." in md
    )
    assert "is best" not in md  # no ranking where nothing can be called
    assert (
        "Measurement stamp of every run: feature space shapes-factornet-32px@3fa91c2e0b7d, 256 samples, metric version 1"
        in md
    )


def test_runs_that_resolved_auto_differently_are_different_settings(tmp_path):
    """`--mixed_precision auto` became bf16 on one machine and fp32 on another: the report keeps them
    apart, labelled by what they became; runs that became the same precision pool."""
    from analysis.load.study import load_loose

    dirs = [write_run(tmp_path / "runs", f"{p}-s{s}", {"zn": 50, "seed": s, "mixed_precision": "auto",
                                                        "mixed_precision_resolved": p}, [{**STAMPED, "eval/fd": 10.0 + s}])
            for p in ("bf16", "no") for s in (0, 1)]  # fmt: skip
    settings = load_loose(dirs).settings
    assert [st.label for st in settings] == ["zn=50 mixed_precision=bf16", "zn=50 mixed_precision=no"]
    assert [len(st.runs) for st in settings] == [2, 2]
    same = load_loose(dirs[:2]).settings
    assert [st.label for st in same] == ["zn=50"]
