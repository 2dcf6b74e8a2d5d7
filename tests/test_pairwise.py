"""The pairwise rule on constructed numbers: a clear difference over 3 seeds has a small p and an
interval off zero, one inside the seed noise has neither, one seed tests nothing; paired when the
seeds match, Welch otherwise; the same numbers as scipy.stats; the exploratory family's sentences."""

from __future__ import annotations

import pytest
from scipy import stats as sps

from analysis import stats


def test_clear_difference_over_three_seeds_is_called_paired():
    a, b = {0: 0.02, 1: 0.05, 2: 0.01}, {0: 0.80, 1: 0.84, 2: 0.78}
    d = stats.compare(a, b)
    assert d.method == "paired" and d.called and d.hi < 0 and (d.holds, d.of) == (3, 3)
    assert d.mean == pytest.approx(-0.78)
    ref = sps.ttest_rel(list(a.values()), list(b.values()))
    assert d.p == pytest.approx(ref.pvalue) and (d.lo, d.hi) == pytest.approx(tuple(ref.confidence_interval()))


def test_difference_inside_the_noise_is_not_called():
    d = stats.compare({0: 30.0, 1: 120.0, 2: 55.0}, {0: 60.0, 1: 40.0, 2: 90.0})
    assert d.lo < 0 < d.hi and not d.called and d.p > 0.05 and (d.holds, d.of) == (1, 3)  # differences -30, +80, -35


def test_one_seed_calls_nothing():
    assert stats.compare({0: 1.0}, {0: 100.0}) is None
    table = {"zn=50": {0: 1.0}, "zn=500": {0: 100.0}}
    assert stats.explore({"eval/fd": table}) == [] and not stats.can_call(table)


def test_different_seeds_use_welch():
    a, b = {0: 1.0, 1: 1.1, 2: 0.9}, {3: 5.0, 4: 5.2, 5: 4.9}
    d = stats.compare(a, b)
    assert d.method == "Welch" and d.called and (d.holds, d.of) == (9, 9)
    ref = sps.ttest_ind(list(a.values()), list(b.values()), equal_var=False)
    assert d.p == pytest.approx(ref.pvalue) and (d.lo, d.hi) == pytest.approx(tuple(ref.confidence_interval()))


def test_every_called_difference_is_listed_by_the_lower_setting():
    table = {"zn=50": {0: 0.8, 1: 0.82, 2: 0.79}, "zn=100": {0: 0.81, 1: 0.78, 2: 0.83},
             "zn=150": {0: 0.77, 1: 0.8, 2: 0.84}, "zn=500": {0: 0.02, 1: 0.05, 2: 0.01}}  # fmt: skip
    tests = stats.explore({"eval/precision": table})
    (text,) = stats.exploratory_sentences("precision", "eval/precision", tests, len(tests))
    assert text.startswith(
        "precision (exploratory, BH over 6 tests): zn=500 is lower than zn=50, zn=100, zn=150, in 3/3 seeds each"
    )
    quiet = {"a": {0: 1.0, 1: 2.0}, "b": {0: 2.0, 1: 1.0}}
    tests = stats.explore({"eval/recall": quiet})
    assert stats.exploratory_sentences("recall", "eval/recall", tests, 1) == [
        "recall: no difference between settings survives the false-discovery control (exploratory, BH over 1 test)."
    ]
