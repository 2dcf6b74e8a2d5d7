"""The metric registry is the one owner of what a key means: the report's names, better sides, the
numbers it leads with and tests, and what it never shows as a measure of the generator (timings,
counts, the stamp) all come from it. Runs are written by hand (config, metrics, status)."""

from __future__ import annotations

import pytest

from analysis import build, figures, numbers
from analysis.load.study import load_loose
from analysis.render import wandb as wandb_report
from genlat.keys import STUDY_METRIC, Best
from genlat.metrics import registry
from tests.test_report_stamps import STAMPED, write_run

TIMINGS = {"eval/claims_seconds": 2.5, "eval/seconds": 7.0}


def _study(tmp_path):
    def lines(zn, seed):
        return [{**STAMPED, **TIMINGS, "eval/fd": 30.0 / e + zn + seed, "eval/precision": 0.5 + 0.01 * seed, "eval/new_metric": 1.0 + seed,
                 "epoch/loss_g": 1.0 / e, "epoch/images_per_s": 300.0} for e in (1, 2)]  # fmt: skip

    return load_loose(
        [
            write_run(tmp_path / "runs", f"zn{zn}-s{s}", {"zn": zn, "seed": s}, lines(zn, s))
            for zn in (8, 16)
            for s in (0, 1)
        ]
    )


def test_timings_are_never_plotted_or_listed_as_a_measure(tmp_path, monkeypatch):
    import wandb_workspaces.reports.v2 as wr

    study = _study(tmp_path)
    plotted = []
    real = figures.against_settings
    monkeypatch.setattr(
        figures, "against_settings", lambda values, *a, **k: plotted.append(list(values)) or real(values, *a, **k)
    )
    doc = build.build(study, tmp_path / "figs")
    assert plotted == [["eval/fd", "eval/precision", "eval/new_metric"]]  # Q1's panels against zn: measures only
    appendix = next(s for s in doc.sections if s.name == "appendix").blocks[0]
    assert appendix.notes[2:] == ["eval/fd", "eval/precision", "eval/new_metric"]  # an unregistered key still shows
    text = " ".join(str(b) for s in doc.sections for b in s.blocks)
    assert "claims_seconds" not in text and "claims seconds" not in text and "images_per_s" not in text
    report = wandb_report.build_report(doc, study, "me", "genlat", "")
    panels = [p for b in report.blocks if isinstance(b, wr.PanelGrid) for p in b.panels]
    assert {p.y.name for p in panels if isinstance(p, wr.ScatterPlot)} == {
        "eval/fd.min",
        "eval/precision",
    }  # against zn (Q1)
    assert {y for p in panels if isinstance(p, wr.LinePlot) for y in p.y} == {
        "eval/fd",
        "eval/precision",
        "epoch/loss_g",
    }  # Q2
    assert numbers.eval_keys(study.runs) == ["eval/fd", "eval/precision", "eval/new_metric"]


@pytest.mark.parametrize("key", [*TIMINGS, "epoch/images_per_s", "epoch/train_seconds", *registry.STAMP_KEYS])
def test_bookkeeping_is_no_measure(key):
    assert not registry.is_measure(key) and registry.direction(key) is None


def test_names_directions_and_families_come_from_one_entry():
    assert registry.titled("eval/fd") == "Fréchet distance (lower is better)"
    assert registry.titled("eval/recall") == "recall (higher is better)"
    assert (
        registry.direction("eval/kid_std") is None and registry.direction("eval/detail_hf_ratio") is None
    )  # no better side
    member = registry.metric("eval/interp_cv_slerp-real")  # a family's member: the VAE's walk between real images
    assert (member.name, member.direction, member.plotted) == (
        "unevenness of the morph (step-size CV), slerp-real",
        "min",
        ("q3",),
    )
    assert registry.metric("eval/brand_new").name == "brand new" and registry.lookup("eval/brand_new") is None
    assert registry.metric("eval/fragmented_share").datasets == ("shapes",) and registry.metric(
        "eval/active_units"
    ).families == ("vae",)
    assert (
        registry.direction(STUDY_METRIC) == "min" and Best().goal == "minimize"
    )  # the study's best agrees with its entry


def test_every_entry_is_consistent():
    keys = [m.key for m in registry.METRICS]
    assert len(keys) == len(set(keys))
    for m in (*registry.METRICS, *registry.FAMILIES):
        assert m.better in (registry.LOWER, registry.HIGHER, None), m.key
        assert m.role in (registry.QUALITY, registry.CLAIM, registry.LATENT, registry.STATISTIC, registry.TRAINING,
                          registry.BOOKKEEPING, registry.STAMP), m.key  # fmt: skip
        assert set(m.plotted) <= {"q1", "q2", "q3"}, m.key
        if not registry.is_measure(m.key):  # bookkeeping is never led with, tested, plotted or ranked
            assert not (m.first or m.headline or m.plotted or m.series or m.better), m.key
    assert registry.SERIES_KEYS == (
        "eval/fd",
        "eval/kid",
        "eval/precision",
        "eval/recall",
        "eval/ppl",
    )  # W&B table columns: stable
