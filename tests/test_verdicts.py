"""Each of the four verdicts from constructed seed tables (setting -> {seed: value})."""

from __future__ import annotations

from analysis import stats

CLEAR_UP = {"zn=50": {0: 0.50, 1: 0.52, 2: 0.49}, "zn=500": {0: 0.80, 1: 0.83, 2: 0.79}}
NOISY = {"zn=50": {0: 0.2, 1: 0.6, 2: 0.4}, "zn=500": {0: 0.5, 1: 0.3, 2: 0.45}}


def test_trend_gives_each_verdict():
    assert stats.trend(CLEAR_UP, "zn=50", "zn=500", "up")[0] == stats.SUPPORTED
    assert stats.trend(CLEAR_UP, "zn=50", "zn=500", "down")[0] == stats.CONTRADICTED
    assert stats.trend(NOISY, "zn=50", "zn=500", "up")[0] == stats.UNRESOLVED
    one_seed = {k: {0: v[0]} for k, v in CLEAR_UP.items()}
    assert stats.trend(one_seed, "zn=50", "zn=500", "up") == (stats.UNRESOLVED, "one seed per setting: nothing can be called")
    assert stats.trend({}, "zn=50", "zn=500", "up")[0] == stats.UNMEASURABLE  # the key was never logged


def test_above_all_needs_every_comparison_called():
    table = {"zn=50": {0: 0.1, 1: 0.12, 2: 0.11}, "zn=150": {0: 0.2, 1: 0.22, 2: 0.19}, "zn=500": {0: 0.7, 1: 0.75, 2: 0.72}}
    assert stats.above_all(table, "zn=500")[0] == stats.SUPPORTED
    assert stats.above_all(table, "zn=50")[0] == stats.CONTRADICTED
    assert stats.above_all({**table, "zn=500": {0: 0.1, 1: 0.4, 2: 0.25}}, "zn=500")[0] == stats.UNRESOLVED
    assert stats.above_all({"zn=500": {0: 1.0}}, "zn=500")[0] == stats.UNMEASURABLE


def test_level_gives_each_verdict():
    gradual = {"zn=50": {0: 0.6, 1: 0.7, 2: 0.65}, "zn=500": {0: 0.8, 1: 0.75, 2: 0.85}}
    jumpy = {"zn=50": {0: 0.6, 1: 0.7, 2: 0.65}, "zn=500": {0: 3.0, 1: 3.2, 2: 2.9}}
    assert stats.level(gradual, 1.0, "below")[0] == stats.SUPPORTED
    assert stats.level(jumpy, 1.0, "below")[0] == stats.CONTRADICTED
    assert stats.level({"zn=50": {0: 0.2, 1: 1.9, 2: 0.9}}, 1.0, "below")[0] == stats.UNRESOLVED
    assert stats.level({"zn=50": {0: 0.5}}, 1.0, "below")[0] == stats.UNRESOLVED  # one seed: no interval
    assert stats.level({}, 1.0, "below")[0] == stats.UNMEASURABLE
