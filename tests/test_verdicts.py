"""Each of the four verdicts from constructed seed tables (setting -> {seed: value}), decided as the
claims are: a claim's test, then its family's correction (one claim here: Holm changes nothing)."""

from __future__ import annotations

from analysis import stats

ZN = {"zn=50": 50, "zn=100": 100, "zn=500": 500}
CLEAR_UP = {
    "zn=50": {0: 0.50, 1: 0.52, 2: 0.49},
    "zn=100": {0: 0.6, 1: 0.63, 2: 0.61},
    "zn=500": {0: 0.80, 1: 0.83, 2: 0.79},
}
NOISY = {"zn=50": {0: 0.2, 1: 0.6, 2: 0.4}, "zn=100": {0: 0.45, 1: 0.35, 2: 0.5}, "zn=500": {0: 0.5, 1: 0.3, 2: 0.45}}


def decided(outcome: stats.Outcome) -> str:
    return stats.verdict(outcome, outcome.p)


def test_trend_gives_each_verdict():
    assert decided(stats.trend(CLEAR_UP, ZN, "up")) == stats.SUPPORTED  # every seed rises through every zn
    assert decided(stats.trend(CLEAR_UP, ZN, "down")) == stats.CONTRADICTED
    assert decided(stats.trend(NOISY, ZN, "up")) == stats.UNRESOLVED
    one_seed = {k: {0: v[0]} for k, v in CLEAR_UP.items()}
    assert (
        decided(stats.trend(one_seed, ZN, "up")) == stats.UNRESOLVED
        and "one seed" in stats.trend(one_seed, ZN, "up").why
    )
    assert decided(stats.trend({}, ZN, "up")) == stats.UNMEASURABLE  # the key was never logged
    assert stats.trend(CLEAR_UP, ZN, "up").test.startswith("Page's trend test")


def test_above_all_needs_every_comparison_called():
    table = {
        "zn=50": {0: 0.1, 1: 0.12, 2: 0.11},
        "zn=150": {0: 0.2, 1: 0.22, 2: 0.19},
        "zn=500": {0: 0.7, 1: 0.75, 2: 0.72},
    }
    assert decided(stats.above_all(table, "zn=500")) == stats.SUPPORTED
    assert decided(stats.above_all(table, "zn=50")) == stats.CONTRADICTED
    loose = stats.above_all({**table, "zn=500": {0: 0.1, 1: 0.4, 2: 0.25}}, "zn=500")
    assert decided(loose) == stats.UNRESOLVED  # above zn=150 in the mean, but not beyond its seed noise
    assert decided(stats.above_all({"zn=500": {0: 1.0}}, "zn=500")) == stats.UNMEASURABLE


def test_level_gives_each_verdict():
    gradual = {"zn=50": {0: 0.6, 1: 0.7, 2: 0.65}, "zn=500": {0: 0.8, 1: 0.75, 2: 0.85}}
    jumpy = {"zn=50": {0: 0.6, 1: 0.7, 2: 0.65}, "zn=500": {0: 3.0, 1: 3.2, 2: 2.9}}
    assert decided(stats.level(gradual, 1.0, "below")) == stats.SUPPORTED
    assert decided(stats.level(jumpy, 1.0, "below")) == stats.CONTRADICTED
    assert decided(stats.level({"zn=50": {0: 0.2, 1: 1.9, 2: 0.9}}, 1.0, "below")) == stats.UNRESOLVED
    assert decided(stats.level({"zn=50": {0: 0.5}}, 1.0, "below")) == stats.UNRESOLVED  # one seed: no interval
    assert decided(stats.level({}, 1.0, "below")) == stats.UNMEASURABLE


def test_a_decided_claim_can_be_undone_by_its_family():
    """p = 0.03 decides a lone claim; with five more claims at p = 0.5, Holm puts it at 0.18: not resolved."""
    assert stats.holm([0.03]) == [0.03]
    assert stats.holm([0.03, *[0.5] * 5])[0] == 0.18


def test_three_equal_seeds_are_no_evidence():
    """Every seed the same difference (0 shape changes on every path, a plateau at epoch 3 in every run): a
    t-test has no noise to measure (scipy says p = 0); the sign test decides, 2 × 0.5³ = 0.25: not resolved,
    and it needs 8 seeds at 0.05 / 6 (2 × 0.5⁸ < 0.0083)."""
    zero = {"zn=50": {0: 0.0, 1: 0.0, 2: 0.0}, "zn=500": {0: 0.0, 1: 0.0, 2: 0.0}}
    flips = stats.level(zero, 1.0, "below")
    assert flips.est.method == "sign test" and flips.p == 0.25 and decided(flips) == stats.UNRESOLVED
    assert stats.needed(flips, 0.05 / 6) == 8
    shifted = stats.compare({0: 1.0, 1: 2.0, 2: 3.0}, {0: 0.0, 1: 1.0, 2: 2.0})
    assert (shifted.method, shifted.p, shifted.lo, shifted.hi) == ("sign test", 0.25, 1.0, 1.0)
