"""The claims table: each of the study's claims (its words, paraphrased), the measure that tests it,
the value per setting (mean ± 95 % interval over seeds), a verdict by the rules in analysis/stats.py,
and the training budget it was measured at. Each question's module makes its own rows with `row`;
this module owns what they share and the table's section."""

from __future__ import annotations

from dataclasses import dataclass

from analysis import numbers, stats
from analysis.document import Para, Section, Table
from genlat.metrics import registry


@dataclass
class ClaimRow:
    code: str
    claim: str  # the study's words, paraphrased
    name: str  # the measure in a few words, for the answers
    measure: str  # human words; keys in small print where the renderer allows
    keys: list[str]
    values: dict[str, str]  # setting label -> "mean ± half-width (n=…)"
    verdict: str
    why: str
    budget: str


def budget(settings) -> str:
    """Epochs × images per epoch of the runs (the last evaluated epoch, which may be below the planned one)."""
    seen = sorted({(numbers.last_epoch(r), r.config.get("epoch_size")) for st in settings for r in st.runs}, key=str)
    return "; ".join(f"{e} epochs × {n:,} images" if isinstance(n, int) else f"{e} epochs" for e, n in seen)


def row(code, claim, measure, keys, table, verdict, settings) -> ClaimRow:
    """table: setting -> {seed: value}; verdict: (verdict, why) from analysis/stats.py."""
    values = {k: stats.interval_text(v) for k, v in table.items()}
    return ClaimRow(code, claim, measure.split(":")[0].split(" (")[0], measure, keys, values, *verdict, budget(settings))


def finals_table(settings, key: str, per_zn: bool = False, transform=None) -> dict[str, dict]:
    """setting -> {seed: the run's final value of `key`}, transformed, and divided by zn when per_zn."""
    def value(r):
        v = numbers.final_number(r, key)
        if v is not None and transform is not None:
            v = transform(v)
        return v / r.config["zn"] if per_zn and v is not None and r.config.get("zn") else v

    return numbers.seed_table(settings, value)


def absent(why: str = "not logged by these runs") -> tuple[str, str]:
    return stats.UNMEASURABLE, why


def missing(settings, key: str) -> tuple[str, str]:
    """A measure that is missing: on a dataset that cannot log it (registry: its datasets), not measurable
    there; on one that can, these runs predate it."""
    need = registry.metric(key).datasets
    datasets = {r.config.get("dataset", "shapes") for st in settings for r in st.runs}
    if need is None or datasets <= set(need):
        return absent()
    return absent(f"{'/'.join(need)} only: not measurable on this dataset")


def sentence(r: ClaimRow) -> str:
    """The claim, its verdict and the measure from the first setting to the last, for the answers."""
    vals = list(r.values.items())
    span = " → ".join(f"{v} at {label}" for label, v in (vals[:1] + vals[-1:] if len(vals) > 1 else vals)) or "not logged"
    return f"{r.code} \u201c{r.claim}\u201d {r.verdict.capitalize()}: {r.name} {span} ({r.why})."


def section(settings, rows: list[ClaimRow]) -> Section:
    s = Section("claims", "The study's claims, tested", "Each claim, the measure that tests it, and a verdict from the numbers.")
    labels = [st.label for st in settings]
    s.blocks.append(Table(["claim", "measure", *labels, "verdict", "why", "budget"],
                          [[f"{r.code}: {r.claim}", r.measure, *(r.values.get(lab, "–") for lab in labels), r.verdict, r.why, r.budget] for r in rows],
                          notes=[", ".join(r.keys) for r in rows]))  # fmt: skip
    s.blocks.append(Para(stats.VERDICT_RULE + " " + stats.PAIRWISE_RULE + " Values: mean ± half-width of the 95 % interval over seeds (n seeds)."))
    return s
