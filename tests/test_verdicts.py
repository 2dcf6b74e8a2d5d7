"""Each of the four verdicts from constructed seed tables (setting -> {seed: value})."""

from __future__ import annotations

from analysis import verdicts as V

CLEAR_UP = {"zn=50": {0: 0.50, 1: 0.52, 2: 0.49}, "zn=500": {0: 0.80, 1: 0.83, 2: 0.79}}
NOISY = {"zn=50": {0: 0.2, 1: 0.6, 2: 0.4}, "zn=500": {0: 0.5, 1: 0.3, 2: 0.45}}


def test_trend_gives_each_verdict():
    assert V.trend(CLEAR_UP, "zn=50", "zn=500", "up")[0] == V.SUPPORTED
    assert V.trend(CLEAR_UP, "zn=50", "zn=500", "down")[0] == V.CONTRADICTED
    assert V.trend(NOISY, "zn=50", "zn=500", "up")[0] == V.UNRESOLVED
    one_seed = {k: {0: v[0]} for k, v in CLEAR_UP.items()}
    assert V.trend(one_seed, "zn=50", "zn=500", "up") == (V.UNRESOLVED, "one seed per setting: nothing can be called")
    assert V.trend({}, "zn=50", "zn=500", "up")[0] == V.UNMEASURABLE  # the key was never logged


def test_above_all_needs_every_comparison_called():
    table = {"zn=50": {0: 0.1, 1: 0.12, 2: 0.11}, "zn=150": {0: 0.2, 1: 0.22, 2: 0.19}, "zn=500": {0: 0.7, 1: 0.75, 2: 0.72}}
    assert V.above_all(table, "zn=500")[0] == V.SUPPORTED
    assert V.above_all(table, "zn=50")[0] == V.CONTRADICTED
    assert V.above_all({**table, "zn=500": {0: 0.1, 1: 0.4, 2: 0.25}}, "zn=500")[0] == V.UNRESOLVED
    assert V.above_all({"zn=500": {0: 1.0}}, "zn=500")[0] == V.UNMEASURABLE


def test_level_gives_each_verdict():
    gradual = {"zn=50": {0: 0.6, 1: 0.7, 2: 0.65}, "zn=500": {0: 0.8, 1: 0.75, 2: 0.85}}
    jumpy = {"zn=50": {0: 0.6, 1: 0.7, 2: 0.65}, "zn=500": {0: 3.0, 1: 3.2, 2: 2.9}}
    assert V.level(gradual, 1.0, "below")[0] == V.SUPPORTED
    assert V.level(jumpy, 1.0, "below")[0] == V.CONTRADICTED
    assert V.level({"zn=50": {0: 0.2, 1: 1.9, 2: 0.9}}, 1.0, "below")[0] == V.UNRESOLVED
    assert V.level({"zn=50": {0: 0.5}}, 1.0, "below")[0] == V.UNRESOLVED  # one seed: no interval
    assert V.level({}, 1.0, "below")[0] == V.UNMEASURABLE
