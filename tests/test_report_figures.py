"""The Q2 figure on a log axis keeps its 95 % bands above the axis floor (they are computed on the log
of the values), where a linear t-band of the same seeds would go below zero."""

from __future__ import annotations

import numpy as np

from analysis import figures

SERIES = {"zn=50": {1: [2400.0, 300.0, 900.0], 2: [60.0, 20.0, 400.0], 3: [40.0, 9.0, 150.0]},
          "zn=500": {1: [3000.0, 2500.0, 200.0], 2: [700.0, 90.0, 40.0], 3: [300.0, 30.0, 25.0]}}  # fmt: skip


def test_log_axis_bands_stay_above_the_floor(tmp_path, monkeypatch):
    drawn = []
    real = figures._save
    monkeypatch.setattr(figures, "_save", lambda fig, path, tight=True: drawn.append(fig) or real(fig, path, tight))
    assert any(
        figures._interval(v)[0] - figures._interval(v)[1] < 0 for s in SERIES.values() for v in s.values()
    )  # the bug's case
    figures.band_curves(SERIES, "FD against epoch", tmp_path / "q2.png")
    (ax,) = drawn[0].axes
    assert ax.get_yscale() == "log"
    floor = ax.get_ylim()[0]
    bands = [c for c in ax.collections if c.get_paths()]
    assert len(bands) == 2
    for band in bands:
        ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
        assert ys.min() > 0 and ys.min() >= floor  # the band never runs to the floor of the axis
    centre, lo, hi = figures.band([2400.0, 300.0, 900.0], log=True)
    assert (
        0 < lo < centre < hi and abs(centre - 2400 ** (1 / 3) * 300 ** (1 / 3) * 900 ** (1 / 3)) < 1e-6
    )  # the geometric mean


def test_a_linear_band_that_would_reach_zero_goes_to_a_log_axis(tmp_path, monkeypatch):
    """Values within 20× of each other, but 3 seeds so spread that the linear t-band crosses zero: log
    axis, band in log space, above the floor."""
    drawn = []
    real = figures._save
    monkeypatch.setattr(figures, "_save", lambda fig, path, tight=True: drawn.append(fig) or real(fig, path, tight))
    series = {"zn=50": {1: [2000.0, 1500.0, 2500.0], 2: [600.0, 150.0, 1800.0]}}
    figures.band_curves(series, "FD", tmp_path / "q2.png")
    (ax,) = drawn[0].axes
    ys = np.concatenate([p.vertices[:, 1] for c in ax.collections for p in c.get_paths()])
    assert ax.get_yscale() == "log" and ys.min() > 0 and ys.min() >= ax.get_ylim()[0]


def test_an_interval_bar_stops_where_the_measure_ends(tmp_path, monkeypatch):
    """A share's t-interval over 3 seeds can pass 0 (precision 0.01, 0.15, 0.44: the main job's zn = 500);
    the answer figure's bar stops at 0 and 1, a distance's at 0, and an open side is left as computed."""
    from genlat.metrics import registry

    assert registry.bounds("eval/precision") == (0.0, 1.0) and registry.bounds("eval/fd") == (0.0, None)
    assert registry.bounds("eval/interp_cv_slerp") == (0.0, None) and registry.bounds("eval/kid") == (None, None)
    drawn = []
    real = figures._save
    monkeypatch.setattr(figures, "_save", lambda fig, path, tight=True: drawn.append(fig) or real(fig, path, tight))
    seeds = {"zn=500": [0.01, 0.15, 0.44], "zn=50": [0.81, 0.74, 0.99]}
    m, half = figures._interval(seeds["zn=500"])
    assert m - half < 0 and figures._interval(seeds["zn=50"])[0] + figures._interval(seeds["zn=50"])[1] > 1
    figures.with_intervals({"precision": seeds}, ["zn=50", "zn=500"], tmp_path / "a.png", {"precision": (0.0, 1.0)})
    (ax,) = drawn[0].axes
    ys = np.concatenate([seg[:, 1] for c in ax.collections for seg in getattr(c, "get_segments", list)()])
    assert ys.min() >= 0.0 and ys.max() <= 1.0 and ys.min() == 0.0 and ys.max() == 1.0
    assert figures.bar_within(0.5, 0.2, None, None) == (0.2, 0.2)
