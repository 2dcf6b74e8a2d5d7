"""The report's two families and what an open claim needs, on synthetic studies (runs written by hand:
config, metrics, status): Holm and Benjamini-Hochberg against hand-computed and scipy values; a study
with no true difference and many metrics calls nothing in either family; a planted monotone trend is
supported by the trend test over every zn where the end-to-end t-test is not; the seeds-needed figure
matches its formula and a simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from analysis import numbers, questions, stats
from analysis.load.study import load_loose
from tests.test_report_stamps import STAMPED, write_run

ZNS = (50, 100, 150, 500)
SEEDS = (0, 1, 2)


def _study(tmp_path, line, whole=False):
    """line(zn, seed) -> the run's one metrics line (its final epoch). The settings (or the whole Study)."""
    dirs = [write_run(tmp_path / "runs", f"zn{zn}-s{s}", {"zn": zn, "seed": s, "epoch_size": 4800, "model": "dcgan", "dataset": "shapes"},
                      [{**STAMPED, **line(zn, s)}]) for zn in ZNS for s in SEEDS]  # fmt: skip
    study = load_loose(dirs)
    return study if whole else study.settings


def test_holm_matches_hand_computed_values():
    # sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → monotone 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_benjamini_hochberg_matches_hand_and_scipy():
    ps = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005×4/1 = 0.02, 0.01×4/2 = 0.02, 0.03×4/3 = 0.04, 0.04×4/4 = 0.04
    assert stats.bh(ps) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    rng = np.random.default_rng(3)
    many = list(rng.uniform(size=200) ** 2)
    assert stats.bh(many) == pytest.approx(list(sps.false_discovery_control(many)))


def test_no_true_difference_and_many_metrics_calls_nothing(tmp_path):
    """30 noise metrics and the claims' measures, all from one distribution at every zn: uncorrected,
    a few of the 180 pairwise tests fall below 0.05 by chance (the old rule called them); after BH
    none is called, and no claim is decided."""
    rng = np.random.default_rng(7)

    def line(zn, seed):
        noise = {f"eval/noise_{i:02d}": float(rng.normal(10, 1)) for i in range(30)}
        return {**noise, "eval/detail_hf_ratio": math.exp(-abs(rng.normal(0.5, 0.1))), "eval/fragmented_share": float(rng.uniform(0.1, 0.3)),
                "eval/jacobian_dims90": float(zn * rng.uniform(0.3, 0.5)), "eval/class_flips_slerp": float(1 + rng.normal(0, 0.3)),
                "eval/class_flips_lerp": float(1 + rng.normal(0, 0.3))}  # fmt: skip

    settings = _study(tmp_path, line)
    tests = numbers.exploratory(settings)
    assert len(tests) == 35 * 6  # every measure × every pair of the 4 settings
    assert sum(t.diff.p < 0.05 for t in tests) >= 3  # what an uncorrected 95 % rule would have called
    assert not any(t.called for t in tests)
    rows = questions.claims_table(settings)
    assert {r.verdict for r in rows} <= {stats.UNRESOLVED, stats.UNMEASURABLE}
    assert [r.code for r in rows if r.verdict == stats.UNRESOLVED] == [
        "Q1a",
        "Q1b",
        "Q1c (GAN)",
        "Q3 (slerp)",
        "Q3 (lerp)",
    ]
    assert all(r.needs for r in rows if r.verdict == stats.UNRESOLVED)  # each open claim says what would resolve it


def test_a_ranking_is_printed_only_where_a_difference_is_called(tmp_path):
    from analysis.questions import q1_latent

    def findings(fd):
        study = _study(
            tmp_path / str(len(list(tmp_path.iterdir()))), lambda zn, seed: {"eval/fd": fd(zn, seed)}, whole=True
        )
        keys = numbers.eval_keys(study.runs)
        return " ".join(
            q1_latent._findings(
                study, keys, {k: {st.label: numbers.finals(st, k) for st in study.settings} for k in keys}
            )
        )

    noise = findings(
        lambda zn, seed: 50.0 + [3.1, -2.4, 0.7][seed] * (1 + zn % 7)
    )  # seed noise only: zn=50 has the lowest mean
    assert "is best" not in noise and "no difference between settings survives" in noise
    clear = findings(lambda zn, seed: 10.0 * ZNS.index(zn) + 50.0 + 0.3 * seed + 0.01 * (zn % 7) * seed)
    assert "eval/fd: zn=50 is best" in clear and "(exploratory, BH over 6 tests): zn=50 is lower than" in clear


SLOPES = (0.02, 0.03, 0.15)  # per doubling of zn: every seed falls through every zn, by very different amounts


def _detail(zn, seed):
    gap = 0.6 + 0.05 * seed - SLOPES[seed] * math.log2(zn / 50)  # |ln(detail ratio)|, the Q1a measure
    return {"eval/detail_hf_ratio": math.exp(-gap)}


def test_a_planted_monotone_trend_is_supported_where_the_end_to_end_test_is_not(tmp_path):
    settings = _study(tmp_path, _detail)
    ends = sps.ttest_rel(*([-math.log(_detail(zn, s)["eval/detail_hf_ratio"]) for s in SEEDS] for zn in (500, 50)))
    assert ends.pvalue > 0.05  # zn=500 against zn=50 alone, 3 paired seeds: not resolved
    (q1a,) = [r for r in questions.claims_table(settings) if r.code == "Q1a"]
    assert q1a.verdict == stats.SUPPORTED and q1a.test.startswith("Page's trend test")
    assert q1a.outcome.p == pytest.approx(
        2 / math.factorial(4) ** 3
    )  # every block in the claimed order: Page's smallest p


def test_the_middle_zn_enter_the_trend(tmp_path):
    """The same ends, zn=100 and 150 out of order (zn=100 given zn=500's values, zn=150 zn=100's): the trend
    test sees it (the end-to-end test could not)."""

    def shuffled(zn, seed):
        return _detail({100: 500, 150: 100}.get(zn, zn), seed)

    rows = {r.code: r for r in questions.claims_table(_study(tmp_path, shuffled))}
    assert rows["Q1a"].outcome.p > 2 / math.factorial(4) ** 3 * 10 and rows["Q1a"].verdict == stats.UNRESOLVED


@pytest.mark.parametrize(
    ("effect", "two_sample", "n"), [(0.5, False, 34), (0.8, False, 15), (1.0, False, 10), (0.5, True, 64)]
)
def test_seeds_needed_is_the_noncentral_t_figure(effect, two_sample, n):
    """The textbook sample sizes for 80 % power at a two-sided 0.05 (Cohen 1988; G*Power gives the same)."""
    assert stats.seeds_needed(effect, 0.05, two_sample=two_sample) == n
    assert stats.power(effect, n - 1, 0.05, two_sample) < 0.8 <= stats.power(effect, n, 0.05, two_sample)
    assert stats.seeds_needed(0.0, 0.05) is None  # no effect is never resolved


def test_seeds_needed_matches_a_simulation():
    """At the seeds the formulas give, simulated studies resolve the effect about 80 % of the time (±20 %):
    the t-test at Holm's strictest level for 6 claims, and Page's test on a planted trend."""
    rng = np.random.default_rng(11)
    alpha = 0.05 / 6
    n = stats.seeds_needed(1.0, alpha)
    p = sps.ttest_1samp(rng.normal(1.0, 1.0, size=(4000, n)), 0, axis=1).pvalue
    assert 0.64 <= (p < alpha).mean() <= 0.96
    x = np.log2(np.array(ZNS) / 50)
    pilot = -0.5 * x + rng.normal(size=(2000, 4))  # a trend of 0.5 noise sds per doubling of zn
    rho = [sps.spearmanr(np.arange(4), row).statistic for row in pilot]
    b = stats.page_seeds_needed(rho, 4, alpha)
    hits = 0
    for _ in range(500):
        data = -0.5 * x + rng.normal(size=(b, 4))
        hits += min(1.0, 2 * min(sps.page_trend_test(data).pvalue, sps.page_trend_test(-data).pvalue)) < alpha
    assert 0.64 <= hits / 500 <= 0.96


def test_an_open_claim_says_what_would_resolve_it(tmp_path):
    """A tiny effect inside the practical size: 'no effect of practical size'; no effect at all: not at this
    budget, and what the full sweep.yaml trains."""

    def flat(zn, seed):
        return {
            "eval/fragmented_share": 0.2 + 0.001 * ((seed + zn) % 3),
            "eval/class_flips_slerp": 1.0 + 0.001 * (seed - 1) * (zn % 7 - 3),
        }

    rows = {r.code: r for r in questions.claims_table(_study(tmp_path, flat))}
    assert rows["Q1b"].verdict == stats.UNRESOLVED and rows["Q1b"].needs.startswith(
        "no effect of practical size: the interval lies within ±0.0500"
    )
    slerp = rows["Q3 (slerp)"]
    assert (
        slerp.verdict == stats.UNRESOLVED
        and "not at this budget" in slerp.needs
        and "sweep.yaml's full study trains 20 epochs" in slerp.needs
    )


def test_page_resolves_a_planted_trend_more_often_than_the_end_to_end_test():
    """3 seeds × the study's 4 zn, a trend of one noise sd per doubling of zn: in simulated studies Page's
    test (the report's trend test) resolves it at 0.05 far more often than zn=500 − zn=50 alone, and on
    noise it stays at or below its level."""
    rng = np.random.default_rng(5)
    x = np.log2(np.array(ZNS) / 50)
    zn = {f"zn={z}": z for z in ZNS}

    def rates(delta, n=300):
        page = ends = 0
        for _ in range(n):
            y = -delta * x + rng.normal(size=(3, 4))
            table = {label: dict(enumerate(y[:, j])) for j, label in enumerate(zn)}
            page += stats.page(table, zn)[0] < 0.05
            ends += stats.compare(table["zn=500"], table["zn=50"]).p < 0.05
        return page / n, ends / n

    page, ends = rates(1.0)
    assert page > ends + 0.1  # about 0.74 against 0.55
    assert rates(0.0, 200)[0] <= 0.08  # no trend: not detected beyond its level
