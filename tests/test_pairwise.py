"""The pairwise rule on constructed numbers: a clear difference over 3 seeds is called, one inside the
seed noise is not, one seed calls nothing; paired when the seeds match, Welch otherwise."""

from __future__ import annotations

import pytest

from analysis import stats


def test_clear_difference_over_three_seeds_is_called_paired():
    d = stats.compare({0: 0.02, 1: 0.05, 2: 0.01}, {0: 0.80, 1: 0.84, 2: 0.78})
    assert d.method == "paired" and d.called and d.hi < 0 and (d.holds, d.of) == (3, 3)
    assert d.mean == pytest.approx(-0.78)


def test_difference_inside_the_noise_is_not_called():
    d = stats.compare({0: 30.0, 1: 120.0, 2: 55.0}, {0: 60.0, 1: 40.0, 2: 90.0})
    assert d.lo < 0 < d.hi and not d.called and (d.holds, d.of) == (1, 3)  # differences -30, +80, -35


def test_one_seed_calls_nothing():
    assert stats.compare({0: 1.0}, {0: 100.0}) is None
    table = {"zn=50": {0: 1.0}, "zn=500": {0: 100.0}}
    assert stats.called(table) == []
    assert stats.differences("Fréchet distance", table) == ["Fréchet distance: one seed per setting, so no difference between settings can be called."]


def test_different_seeds_use_welch():
    d = stats.compare({0: 1.0, 1: 1.1, 2: 0.9}, {3: 5.0, 4: 5.2, 5: 4.9})
    assert d.method == "Welch" and d.called and (d.holds, d.of) == (9, 9)


def test_every_called_difference_is_listed_by_the_lower_setting():
    table = {"zn=50": {0: 0.8, 1: 0.82, 2: 0.79}, "zn=100": {0: 0.81, 1: 0.78, 2: 0.83},
             "zn=150": {0: 0.77, 1: 0.8, 2: 0.84}, "zn=500": {0: 0.02, 1: 0.05, 2: 0.01}}  # fmt: skip
    (text,) = stats.differences("precision", table)
    assert text.startswith("zn=500 has lower precision than each of zn=50, zn=100, zn=150, in 3/3 seeds each")
    assert "paired" in text
    quiet = {"a": {0: 1.0, 1: 2.0}, "b": {0: 2.0, 1: 1.0}}
    assert stats.differences("recall", quiet) == ["recall: no difference between settings is beyond seed noise."]
