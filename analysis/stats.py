"""The report's statistics, pure functions of numbers (no report types). Seed tables map a setting
label to {seed: value}. What is here:

- one setting: a mean and its 95 % t-interval over seeds (the one meaning of "±" in the report);
- two settings: the difference over seeds, a paired t-test (`scipy.stats.ttest_rel`) when both ran
  the same seeds, Welch's (`ttest_ind(equal_var=False)`) otherwise, each with its 95 % interval;
- a trend over every zn: Page's trend test, seeds as blocks (`scipy.stats.page_trend_test`), with the
  within-seed slope of the measure on ln zn as its estimate;
- the study's claims as a confirmatory family (Holm) and every other difference between settings
  as an exploratory one (Benjamini-Hochberg, `scipy.stats.false_discovery_control`);
- the seeds an open claim would need: 80 % power of its test at its corrected level (a t-test's by the
  noncentral t; Page's by its normal approximation).

When every seed gives the same difference a t-test has no noise to measure: the sign test decides
(with 3 seeds its p is 0.25 at best: three equal seeds are no evidence).

Each rule is quoted in the report next to what it decided."""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats as sps

from analysis.text import fmt

ALPHA = 0.05  # the family-wise error of the claims (Holm) and the false discovery rate of the rest (BH)
LEVEL = 0.95  # every interval in the report
POWER = 0.80  # what "would resolve" means for the seeds needed
MAX_SEEDS = 1000  # beyond this the seeds-needed search stops: "more than 1000"
SUPPORTED, CONTRADICTED, UNRESOLVED, UNMEASURABLE = "supported", "contradicted", "not resolved", "not measurable"
VERDICTS = (SUPPORTED, CONTRADICTED, UNRESOLVED, UNMEASURABLE)
PLUS_MINUS = "± is the half-width of the 95 % t-interval over seeds, everywhere in this report."
PAIRWISE_RULE = ("Pairwise rule. A difference between two settings is a t-test over seeds: paired (scipy.stats.ttest_rel) "
                 "when both settings ran the same seeds, Welch's (ttest_ind, equal_var=False) otherwise, shown with its "
                 "95 % interval. Confirmatory: the study's claims (the claims table) are one family; a claim is decided "
                 "when its Holm-adjusted p is below 0.05 (family-wise error 0.05 over the claims). Exploratory: every other "
                 "difference between settings, every eval measure × every pair of settings, is one family controlled "
                 "for a false discovery rate of 0.05 (Benjamini-Hochberg over all of its tests); it is called when its "
                 "BH-adjusted p is below 0.05, is labelled exploratory with the number of tests, and is not a finding of "
                 "the study. 'k/n seeds' counts the seeds (for Welch, the seed pairs) in which the order holds. With one "
                 "seed per setting nothing can be called.")  # fmt: skip
VERDICT_RULE = ("Verdicts. Each claim has one test, named in its row: a trend over zn is Page's trend test (Page 1963, "
                "scipy.stats.page_trend_test; two-sided: twice the smaller one-sided p) over every zn, with the seeds that "
                "ran every zn as blocks, its estimate the within-seed least-squares slope of the measure on ln zn per "
                "doubling of zn with its t-interval over seeds (with two zn only: the paired t-test); 'the largest zn "
                "above every other' is an intersection-union test of the paired "
                "differences (all must hold: its p is the largest of theirs); a level 'for every setting' is the same "
                "over one-sample t-tests against the level. A t-test with no spread over seeds (every seed the same "
                "difference) has no noise to measure: the sign test decides (2 × 0.5^n; 0.25 with 3 seeds). The claims' p-values are adjusted together (Holm). "
                "Supported: adjusted p < 0.05 the claimed way; contradicted: adjusted p < 0.05 the other way (for an "
                "all-of claim: some part significantly the other way); not resolved: adjusted p ≥ 0.05, with the seeds "
                "that would resolve an effect of the observed size (80 % power at 0.05 / the number of claims, Holm's "
                "strictest step; noncentral t for a t-test, the normal approximation of Page's L from the seeds' Spearman "
                "correlations for a trend), and 'no effect of practical size' when the interval lies inside the claim's named "
                "practical size; not measurable: the measure was not logged (e.g. a shapes-only measure on another "
                "dataset) or the study lacks what the claim needs.")  # fmt: skip


# --- one setting's values ------------------------------------------------------------------------
def finite(values) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]


def mean_interval(values: list[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95 % t-interval (None with one value)."""
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, None
    return m, _quantile(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))


def describe(values: list[float]) -> str:
    """'mean ± half-width of the 95 % interval (n=…)', or the value alone."""
    m, half = mean_interval(values)
    return fmt(m) if half is None else f"{fmt(m)} ± {fmt(half, 2)} (n={len(values)})"


def interval_text(values: dict) -> str:
    """values: seed -> value. describe() of the values."""
    return describe(list(values.values()))


def _quantile(df: float) -> float:
    return float(sps.t.ppf(0.5 + LEVEL / 2, df))


# --- a test ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Diff:
    """One t-test's estimate (a − b for two settings; a mean slope; a mean against a level) with its
    95 % interval, two-sided p, and what the power of the same test at more seeds needs."""

    mean: float
    lo: float
    hi: float
    method: str  # "paired", "Welch", "one-sample", "slope"
    holds: int  # seeds (paired) or seed pairs (Welch) whose order matches the mean's sign
    of: int
    p: float = 1.0
    effect: float = 0.0  # standardised effect: mean / sd of the per-seed statistic (Welch: over the pooled sd)
    two_sample: bool = False  # Welch: seeds are needed per setting, in two independent groups

    @property
    def called(self) -> bool:
        """Outside zero at 95 %, unadjusted (the p of the same test is below 0.05)."""
        return self.lo > 0 or self.hi < 0

    def flipped(self) -> Diff:
        return replace(self, mean=-self.mean, lo=-self.hi, hi=-self.lo, effect=-self.effect)

    def __str__(self) -> str:
        """'mean [lo, hi]': the estimate with its 95 % interval."""
        return f"{fmt(self.mean)} [{fmt(self.lo)}, {fmt(self.hi)}]"


def _sign(x: float) -> int:
    return int(x > 0) - int(x < 0)  # numpy floats too (their bools do not subtract)


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():  # near-identical seeds: scipy warns about precision, the interval is still right
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kw)


def _p(res) -> float:
    return 1.0 if math.isnan(res.pvalue) else float(res.pvalue)  # every seed equal and on the level: no evidence


def _no_spread(m: float, n: int) -> float:
    """p when every seed gives the same difference: a t-test has no noise to measure, so the sign test
    (scipy.stats.binomtest: all n seeds on one side) decides, 2 × 0.5^n; 1 when that difference is zero."""
    return 1.0 if m == 0 else float(sps.binomtest(n, n, 0.5).pvalue)


def one_sample(values: list[float], level: float = 0.0, method: str = "one-sample") -> Diff | None:
    """mean(values) − level, t over the values (None with fewer than 2); with no spread, the sign test."""
    if len(values) < 2:
        return None
    m = statistics.fmean(values) - level
    sd = statistics.stdev(values)
    holds = sum(_sign(v - level) == _sign(m) != 0 for v in values)
    if sd == 0:
        return Diff(
            m,
            m,
            m,
            "sign test",
            holds,
            len(values),
            _no_spread(m, len(values)),
            math.copysign(math.inf, m) if m else 0.0,
        )
    res = _quiet(sps.ttest_1samp, values, level)
    ci = res.confidence_interval(LEVEL)
    return Diff(m, float(ci.low) - level, float(ci.high) - level, method, holds, len(values), _p(res), m / sd)


def compare(a: dict, b: dict) -> Diff | None:
    """a, b: seed -> final value; a − b. None when the seeds cannot carry an interval (fewer than 2 each)."""
    if set(a) == set(b) and len(a) >= 2:
        d = [a[s] - b[s] for s in a]
        m, sd = statistics.fmean(d), statistics.stdev(d)
        holds = sum(_sign(x) == _sign(m) != 0 for x in d)
        if sd == 0:
            return Diff(
                m, m, m, "sign test", holds, len(d), _no_spread(m, len(d)), math.copysign(math.inf, m) if m else 0.0
            )
        res = _quiet(sps.ttest_rel, [a[s] for s in a], [b[s] for s in a])
        ci = res.confidence_interval(LEVEL)
        return Diff(m, float(ci.low), float(ci.high), "paired", holds, len(d), _p(res), m / sd)
    xa, xb = list(a.values()), list(b.values())
    if len(xa) < 2 or len(xb) < 2:
        return None
    m = statistics.fmean(xa) - statistics.fmean(xb)
    pooled = math.sqrt((statistics.variance(xa) + statistics.variance(xb)) / 2)
    holds = sum(_sign(x - y) == _sign(m) != 0 for x in xa for y in xb)
    if pooled == 0:  # no spread in either setting: the rank test (Mann-Whitney, exact) decides
        p = 1.0 if m == 0 else float(sps.mannwhitneyu(xa, xb).pvalue)
        return Diff(
            m,
            m,
            m,
            "Mann-Whitney",
            holds,
            len(xa) * len(xb),
            p,
            math.copysign(math.inf, m) if m else 0.0,
            two_sample=True,
        )
    res = _quiet(sps.ttest_ind, xa, xb, equal_var=False)
    ci = res.confidence_interval(LEVEL)
    return Diff(
        m, float(ci.low), float(ci.high), "Welch", holds, len(xa) * len(xb), _p(res), m / pooled, two_sample=True
    )


def slopes(table: dict[str, dict], zn: dict[str, float], per: float = math.log(2)) -> Diff | None:
    """The within-seed slope of the measure on ln zn: per seed, the least-squares slope over every
    setting that seed ran (2+ zn), scaled to `per` in ln zn (default: per doubling of zn); their mean
    with its t-interval over seeds. The trend's estimate; None with fewer than 2 such seeds."""
    out = []
    for s in sorted({s for v in table.values() for s in v}, key=str):
        pts = [(math.log(zn[k]), v[s]) for k, v in table.items() if s in v and zn.get(k)]
        if len({x for x, _ in pts}) >= 2:
            out.append(float(np.polyfit([x for x, _ in pts], [y for _, y in pts], 1)[0]) * per)
    return one_sample(out, 0.0, "slope")


def page(table: dict[str, dict], zn: dict[str, float]) -> tuple[float, int, list[float]] | None:
    """Page's trend test (Page 1963, scipy.stats.page_trend_test) of the settings ordered by zn, each
    seed that ran every zn a block: (two-sided p, the direction of the trend: +1 rising with zn,
    −1 falling, and each block's Spearman correlation of the value with zn). Two-sided: twice the
    smaller of the two one-sided p-values. None with fewer than 2 complete blocks or 3 zn."""
    order = sorted((k for k in table if zn.get(k)), key=lambda k: zn[k])
    blocks = sorted(set.intersection(*(set(table[k]) for k in order)), key=str) if order else []
    if len(order) < 3 or len(blocks) < 2:
        return None
    data = np.array([[table[k][s] for k in order] for s in blocks])
    up, down = (float(_quiet(sps.page_trend_test, m).pvalue) for m in (data, -data))
    rho = [float(sps.spearmanr(np.arange(len(order)), row).statistic) if np.ptp(row) > 0 else 0.0 for row in data]
    return min(1.0, 2 * min(up, down)), (1 if up <= down else -1), rho


def page_seeds_needed(rho: list[float], k: int, alpha: float, target: float = POWER) -> int | None:
    """Blocks (seeds) Page's test needs for `target` power at two-sided `alpha`, by its normal
    approximation: L is a sum of the blocks' Spearman correlations (Page 1963), each of mean 0 and
    variance 1/(k − 1) under no trend; under the trend, of the observed mean and spread."""
    mu = statistics.fmean(rho)
    if abs(mu) < 1e-9:
        return None
    sd0, sd1 = 1 / math.sqrt(k - 1), (statistics.stdev(rho) if len(rho) > 1 else 0.0)
    n = ((sps.norm.ppf(1 - alpha / 2) * sd0 + sps.norm.ppf(target) * sd1) / abs(mu)) ** 2
    return max(2, math.ceil(n)) if n <= MAX_SEEDS else None


# --- seeds needed ---------------------------------------------------------------------------------
def power(effect: float, n: int, alpha: float, two_sample: bool = False) -> float:
    """Power of the two-sided t-test at level alpha with n seeds (per setting when two_sample) for a
    standardised effect: noncentral t (Cohen 1988)."""
    df, nc = (2 * n - 2, effect * math.sqrt(n / 2)) if two_sample else (n - 1, effect * math.sqrt(n))
    crit = sps.t.ppf(1 - alpha / 2, df)
    p = float(sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc))
    return p if math.isfinite(p) else float(sps.norm.sf(crit - abs(nc)))  # scipy's nct gives nan far in the tail


def seeds_needed(effect: float, alpha: float, target: float = POWER, two_sample: bool = False) -> int | None:
    """The fewest seeds (per setting when two_sample) giving the t-test `target` power at `alpha` for
    `effect`; None when even MAX_SEEDS do not (an effect of zero never resolves)."""
    if not math.isfinite(effect):  # no spread over seeds: the sign test's seeds, 2 × 0.5^n < alpha
        return max(2, math.floor(math.log2(2 / alpha)) + 1)
    if abs(effect) < 1e-9 or power(effect, MAX_SEEDS, alpha, two_sample) < target:
        return None
    lo, hi = 2, MAX_SEEDS  # power grows with n: bisect for the first n that reaches the target
    while lo < hi:
        mid = (lo + hi) // 2
        if power(effect, mid, alpha, two_sample) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


# --- families -------------------------------------------------------------------------------------
def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979): the k-th smallest p times (m − k + 1), made
    monotone, capped at 1; in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out, running = [1.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def bh(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (scipy.stats.false_discovery_control), in the input order."""
    return [float(p) for p in sps.false_discovery_control(pvalues, method="bh")] if pvalues else []


# --- the claims' tests ----------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one claim's test found, before the family's correction decides its verdict."""

    test: str  # the test in words
    claimed: int = 0  # the sign of `est` the claim predicts: +1 or −1
    est: Diff | None = None  # the deciding estimate (None: nothing to test)
    parts: list[tuple[str, Diff]] = field(default_factory=list)  # an all-of claim's parts: (what, estimate)
    why: str = ""  # the estimate in words, or why there is none
    measurable: bool = True
    direction: int | None = None  # the way the test found (Page's); else the estimate's sign
    rho: list[float] | None = None  # Page's test: each block's Spearman correlation (for the seeds needed)
    k: int = 0  # Page's test: the number of zn

    @property
    def p(self) -> float | None:
        return self.est.p if self.est is not None else None

    @property
    def sign(self) -> int:
        return self.direction if self.direction is not None else _sign(self.est.mean)


def absent(why: str) -> Outcome:
    return Outcome("none", why=why, measurable=False)


def trend(table: dict[str, dict], zn: dict[str, float], claimed: str) -> Outcome:
    """Does the measure rise ('up') or fall ('down') as zn grows, over every zn and seed? Page's trend
    test decides (seeds as blocks, settings ordered by zn); the within-seed slope per doubling of zn
    is its estimate. With two zn only, the paired t-test of the two."""
    labels = [k for k in table if zn.get(k)]
    if len(labels) < 2:
        return absent("needs the measure at two zn")
    want = 1 if claimed == "up" else -1
    d = slopes(table, zn)
    found = page(table, zn) if len(labels) >= 3 else None
    if found is None:
        if d is None:
            return Outcome("within-seed slope on ln zn, t over seeds", want,
                           why="one seed per setting (fewer than 2 seeds ran 2+ zn): nothing can be called")  # fmt: skip
        return Outcome("within-seed slope on ln zn, t over seeds (per doubling of zn)", want, d,
                       why=f"slope per doubling {d}, {d.holds}/{d.of} seeds, p = {fmt(d.p, 2)}")  # fmt: skip
    p, way, rho = found
    est = replace(d, p=p, method="Page")
    return Outcome("Page's trend test over every zn, seeds as blocks; estimate: within-seed slope per doubling of zn", want, est,
                   why=f"slope per doubling {d}, {d.holds}/{d.of} seeds; Page p = {fmt(p, 2)}", direction=way,
                   rho=rho, k=len(labels))  # fmt: skip


def _all_of(test: str, parts: list[tuple[str, Diff | None]], claimed: int, word: str) -> Outcome:
    """An intersection-union test: the claim holds when every part holds the claimed way; its p is the
    largest part's. When some part goes the other way, the deciding part is the one the other way
    with the smallest p (a contradiction)."""
    if any(d is None for _, d in parts):
        return Outcome(test, claimed, why="fewer than 2 seeds with a value in some setting: its interval is unknown")
    against = [(w, d) for w, d in parts if _sign(d.mean) != claimed]
    if against:
        w, d = min(against, key=lambda x: x[1].p)
    else:
        w, d = max(parts, key=lambda x: x[1].p)
    return Outcome(test, claimed, d, parts=list(parts), why=f"{w} {word} {d}, p = {fmt(d.p, 2)}")


def above_all(table: dict[str, dict], target: str) -> Outcome:
    """Is `target` (the largest zn) higher than every other setting (paired differences, all-of)?"""
    others = [k for k in table if k != target]
    if target not in table or not others:
        return absent("needs the measure at two zn")
    parts = [(f"{target} − {k}", compare(table[target], table[k])) for k in others]
    return _all_of("intersection-union of paired t-tests (largest zn − each other zn)", parts, 1, "=")


def level(table: dict[str, dict], limit: float, claimed: str) -> Outcome:
    """Is every setting's value below ('below') / above ('above') `limit` (one-sample t each, all-of)?"""
    if not table:
        return absent("not logged")
    parts = [(f"{k} − {limit:g}", one_sample(list(v.values()), limit)) for k, v in table.items()]
    return _all_of(f"intersection-union of one-sample t-tests against {limit:g} (every setting)", parts,
                   -1 if claimed == "below" else 1, "=")  # fmt: skip


def verdict(outcome: Outcome, p_adjusted: float | None) -> str:
    if not outcome.measurable:
        return UNMEASURABLE
    if outcome.est is None or p_adjusted is None or p_adjusted >= ALPHA:
        return UNRESOLVED
    return SUPPORTED if outcome.sign == outcome.claimed else CONTRADICTED


def needed(outcome: Outcome, alpha: float) -> int | None:
    """Seeds that would resolve the claim's observed effect with 80 % power at `alpha`: its deciding
    estimate's; for an all-of claim going the claimed way, the most any part needs."""
    if outcome.est is None:
        return None
    if outcome.rho is not None:
        return page_seeds_needed(outcome.rho, outcome.k, alpha)
    deciding = (
        [d for _, d in outcome.parts] if outcome.parts and _sign(outcome.est.mean) == outcome.claimed else [outcome.est]
    )
    counts = [seeds_needed(d.effect, alpha, two_sample=d.two_sample) for d in deciding]
    return None if any(c is None for c in counts) else max(counts)


# --- the exploratory family -----------------------------------------------------------------------
@dataclass(frozen=True)
class Explored:
    key: str
    a: str  # the setting with the lower value
    b: str
    diff: Diff  # a − b (negative)
    p_adjusted: float

    @property
    def called(self) -> bool:
        return self.p_adjusted < ALPHA


def explore(tables: dict[str, dict[str, dict]]) -> list[Explored]:
    """tables: key -> setting -> {seed: value}. Every pair of settings of every key, tested, and
    Benjamini-Hochberg over all of them together (the lower setting first in each)."""
    found = []
    for key, by_setting in tables.items():
        labels = list(by_setting)
        for i, x in enumerate(labels):
            for y in labels[i + 1 :]:
                d = compare(by_setting[x], by_setting[y])
                if d is not None:
                    found.append((key, x, y, d) if d.mean <= 0 else (key, y, x, d.flipped()))
    adjusted = bh([d.p for *_, d in found])
    return [Explored(k, a, b, d, q) for (k, a, b, d), q in zip(found, adjusted)]


def exploratory_sentences(name: str, key: str, tests: list[Explored], total: int) -> list[str]:
    """One sentence per setting called lower than another by `key` in the exploratory family, or one
    line saying none is."""
    mine = [t for t in tests if t.key == key]
    if not mine:
        return []
    label = f"exploratory, BH over {total} test{'s' if total != 1 else ''}"
    by_lower: dict[str, list[Explored]] = {}
    for t in mine:
        if t.called:
            by_lower.setdefault(t.a, []).append(t)
    if not by_lower:
        return [f"{name}: no difference between settings survives the false-discovery control ({label})."]
    out = []
    for lower, rows in by_lower.items():
        others = ", ".join(t.b for t in rows)
        unit = "seed pairs" if all(t.diff.method == "Welch" for t in rows) else "seeds"
        counts = [f"{t.diff.holds}/{t.diff.of}" for t in rows]
        seeds = (
            f"{counts[0]} {unit}" + (" each" if len(rows) > 1 else "")
            if len(set(counts)) == 1
            else f"{', '.join(counts)} {unit}"
        )
        diffs = "; ".join(f"{t.diff}, adjusted p = {fmt(t.p_adjusted, 2)}" for t in rows)
        out.append(
            f"{name} ({label}): {lower} is lower than {others}, in {seeds} (difference, 95 % interval: {diffs})."
        )
    return out


def can_call(by_setting: dict[str, dict]) -> bool:
    """Whether any pair of settings has the seeds for an interval."""
    labels = list(by_setting)
    return any(compare(by_setting[x], by_setting[y]) is not None for i, x in enumerate(labels) for y in labels[i + 1 :])
