"""The claims table: each of the study's claims (its words, paraphrased), the measure that tests it,
the value per setting (mean ± 95 % interval over seeds), the test it used, its estimate, raw and
Holm-adjusted p, a verdict by the rules in analysis/stats.py, the seeds an open claim would need and
the training budget it was measured at. Each question's module makes its own rows with `row`; `decide`
then treats them as one confirmatory family (Holm); this module owns what they share and the
table's section."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis import numbers, stats
from analysis.document import Para, Section, Table
from analysis.text import fmt
from genlat.metrics import registry

SWEEP_YAML = Path(__file__).resolve().parents[2] / "sweep.yaml"  # the full study, for claims this budget cannot resolve
PRACTICAL_SEEDS = 30  # beyond this many seeds per setting, more seeds at this budget is no plan


@dataclass
class ClaimRow:
    code: str
    claim: str  # the study's words, paraphrased
    name: str  # the measure in a few words, for the answers
    measure: str  # human words; keys in small print where the renderer allows
    keys: list[str]
    values: dict[str, str]  # setting label -> "mean ± half-width (n=…)"
    outcome: stats.Outcome
    budget: str
    practical: tuple[float, str] | None = None  # (size, words): an effect smaller than this does not matter
    verdict: str = stats.UNRESOLVED  # set by decide()
    p_adjusted: float | None = None
    alpha: float | None = None  # the corrected level the seeds needed are computed at
    seeds: int | None = None  # seeds needed (None: none would, or not applicable)
    needs: str = ""  # what would resolve it, in words

    @property
    def why(self) -> str:
        return self.outcome.why

    @property
    def test(self) -> str:
        return self.outcome.test

    def as_data(self) -> dict:
        """The row for report.json."""
        e = self.outcome.est
        return {"id": self.code, "claim": self.claim, "measure": self.measure, "keys": self.keys, "test": self.test,
                "estimate": e.mean if e else None, "interval": [e.lo, e.hi] if e else None, "p": e.p if e else None,
                "p_adjusted": self.p_adjusted, "verdict": self.verdict, "seeds_needed": self.seeds, "needs": self.needs or None,
                "per_setting": self.values, "budget": self.budget}  # fmt: skip


def budget(settings) -> str:
    """Epochs × images per epoch of the runs (the last evaluated epoch, which may be below the planned one)."""
    seen = sorted({(numbers.last_epoch(r), r.config.get("epoch_size")) for st in settings for r in st.runs}, key=str)
    return "; ".join(f"{e} epochs × {n:,} images" if isinstance(n, int) else f"{e} epochs" for e, n in seen)


def row(code, claim, measure, keys, table, outcome: stats.Outcome, settings, practical=None) -> ClaimRow:
    """table: setting -> {seed: value}; outcome: the claim's test (analysis/stats.py)."""
    values = {k: stats.interval_text(v) for k, v in table.items()}
    return ClaimRow(
        code, claim, measure.split(":")[0].split(" (")[0], measure, keys, values, outcome, budget(settings), practical
    )


def zn_of(settings) -> dict[str, float]:
    return {st.label: st.zn for st in settings if isinstance(st.zn, (int, float)) and st.zn > 0}


def finals_table(settings, key: str, per_zn: bool = False, transform=None) -> dict[str, dict]:
    """setting -> {seed: the run's final value of `key`}, transformed, and divided by zn when per_zn."""

    def value(r):
        v = numbers.final_number(r, key)
        if v is not None and transform is not None:
            v = transform(v)
        return v / r.config["zn"] if per_zn and v is not None and r.config.get("zn") else v

    return numbers.seed_table(settings, value)


def absent(why: str = "not logged by these runs") -> stats.Outcome:
    return stats.absent(why)


def missing(settings, key: str) -> stats.Outcome:
    """A measure that is missing: on a dataset that cannot log it (registry: its datasets), not measurable
    there; on one that can, these runs predate it."""
    need = registry.metric(key).datasets
    datasets = {r.config.get("dataset", "shapes") for st in settings for r in st.runs}
    if need is None or datasets <= set(need):
        return absent()
    return absent(f"{'/'.join(need)} only: not measurable on this dataset")


# --- the confirmatory family ----------------------------------------------------------------------
def decide(rows: list[ClaimRow]) -> list[ClaimRow]:
    """The claims as one family: Holm over the p of every claim with a test; each verdict from its
    adjusted p; for each open claim the seeds that would resolve its observed effect at 80 % power at
    0.05 / m (Holm's strictest step, enough whatever the other claims do)."""
    tested = [r for r in rows if r.outcome.p is not None]
    for r, q in zip(tested, stats.holm([r.outcome.p for r in tested])):
        r.p_adjusted = q
    alpha = stats.ALPHA / max(1, len(tested))
    for r in rows:
        r.verdict = stats.verdict(r.outcome, r.p_adjusted)
        r.alpha, r.seeds, r.needs = alpha, None, ""
        if r.verdict == stats.UNRESOLVED and r.outcome.est is not None:
            r.seeds = stats.needed(r.outcome, alpha)
            r.needs = _needs(r)
        elif r.verdict == stats.UNRESOLVED:
            r.needs = "2+ seeds with a value in every setting (for a trend: 2+ seeds that ran every zn)"
    return rows


def _needs(r: ClaimRow) -> str:
    e = r.outcome.est
    unit = "seeds per setting" if e.two_sample else "seeds"
    text = (f"≈{r.seeds} {unit} at this budget (80 % power at p < {fmt(r.alpha, 2)} for the observed effect)"
            if r.seeds is not None and r.seeds <= PRACTICAL_SEEDS else
            f"{'more than ' + str(stats.MAX_SEEDS) if r.seeds is None else r.seeds} {unit} for the observed effect: not at this "
            f"budget; {full_budget()}")  # fmt: skip
    if r.practical and -r.practical[0] < e.lo and e.hi < r.practical[0]:
        text = (
            f"no effect of practical size: the interval lies within ±{fmt(r.practical[0])} ({r.practical[1]}); " + text
        )
    return text


def full_budget() -> str:
    """What the full study (sweep.yaml) trains: the budget to try when this one cannot resolve a claim."""
    try:
        import yaml

        from genlat.config import TrainConfig

        params = yaml.safe_load(SWEEP_YAML.read_text())["parameters"]
        get = lambda k: (params.get(k) or {}).get("value", getattr(TrainConfig(), k))  # noqa: E731
        seeds = len((params.get("seed") or {}).get("values", [0]))
        return (f"sweep.yaml's full study trains {get('epochs')} epochs × {get('epoch_size'):,} images at full width "
                f"(ngf {get('ngf')}), {seeds} seeds per setting: its effect size is unknown until it runs")  # fmt: skip
    except Exception:  # noqa: BLE001 (a report from a copied run folder, without the repository's sweep.yaml)
        return "a longer budget (the full sweep.yaml) is the next to try"


# --- the answers and the table --------------------------------------------------------------------
def sentence(r: ClaimRow) -> str:
    """The claim, its verdict, the test's estimate and what would resolve it, for the answers."""
    vals = list(r.values.items())
    span = (
        " → ".join(f"{v} at {label}" for label, v in (vals[:1] + vals[-1:] if len(vals) > 1 else vals)) or "not logged"
    )
    p = f", Holm-adjusted p = {fmt(r.p_adjusted, 2)}" if r.p_adjusted is not None else ""
    needs = f" Would resolve with: {r.needs}." if r.needs else ""
    return f"{r.code} \u201c{r.claim}\u201d {r.verdict.capitalize()}: {r.name} {span} ({r.why}{p}).{needs}"


def para(r: ClaimRow) -> Para:
    return Para(sentence(r), verdict=r.verdict)


def section(settings, rows: list[ClaimRow]) -> Section:
    tested = sum(r.outcome.p is not None for r in rows)
    s = Section("claims", "The study's claims, tested",
                f"Confirmatory: the study's claims, stated before the data, one family of {tested} tests, family-wise "
                f"error controlled at 0.05 by Holm.")  # fmt: skip
    labels = [st.label for st in settings]
    s.blocks.append(Table(["claim", "measure", *labels, "test", "estimate (95 % interval)", "p (Holm)", "verdict", "why", "would resolve it", "budget"],
                          [[f"{r.code}: {r.claim}", r.measure, *(r.values.get(lab, "–") for lab in labels), r.test,
                            str(r.outcome.est) if r.outcome.est else "–", _p_text(r), r.verdict, r.why, r.needs or "–", r.budget]
                           for r in rows],
                          notes=[", ".join(r.keys) for r in rows]))  # fmt: skip
    s.blocks.append(
        Para(
            stats.VERDICT_RULE
            + " "
            + stats.PAIRWISE_RULE
            + " Values: mean ± half-width of the 95 % interval over seeds (n seeds)."
        )
    )
    return s


def _p_text(r: ClaimRow) -> str:
    if r.outcome.p is None:
        return "–"
    return f"{fmt(r.outcome.p, 2)} ({fmt(r.p_adjusted, 2)})"
