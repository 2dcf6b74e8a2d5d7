"""The claims table: each of the study's claims (its words, paraphrased), the measure that tests it,
the value per setting (mean ± 95 % interval over seeds), a verdict by the rules in stats.py, and
the training budget it was measured at. Built from one stamp group's settings."""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis import findings as F
from analysis import numbers as N
from analysis import stats
from genlat.metrics import registry

EARLY_EPOCHS = 4  # the study: "fast gains in epochs 1-4, then little progress"
PLATEAU_EPOCHS = EARLY_EPOCHS + 2  # the plateau rule needs 2 epochs after the plateau epoch to confirm it
GRADUAL_FLIPS = 1.0  # a path between two different shapes changes class once when the morph is gradual


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
    seen = sorted({(N.last_epoch(r), r.config.get("epoch_size")) for st in settings for r in st.runs}, key=str)
    return "; ".join(f"{e} epochs × {n:,} images" if isinstance(n, int) else f"{e} epochs" for e, n in seen)


def _row(code, claim, measure, keys, table, verdict, settings) -> ClaimRow:
    return ClaimRow(code, claim, measure.split(":")[0].split(" (")[0], measure, keys, {k: stats.interval_text(v) for k, v in table.items()}, *verdict, budget(settings))


def finals_table(settings, key: str, per_zn: bool = False, transform=None) -> dict[str, dict]:
    def value(r):
        v = N.final_number(r, key)
        if v is not None and transform is not None:
            v = transform(v)
        return v / r.config["zn"] if per_zn and v is not None and r.config.get("zn") else v

    return N.seed_table(settings, value)


def _ends(settings) -> tuple[str, str] | tuple[None, None]:
    zns = [st for st in settings if isinstance(st.zn, (int, float))]
    if not zns:
        return None, None
    return min(zns, key=lambda s: s.zn).label, max(zns, key=lambda s: s.zn).label


def q1_rows(settings) -> list[ClaimRow]:
    low, high = _ends(settings)
    # "Finer detail, more complete" means closer to real data: a ratio above 1 is excess high-frequency
    # energy (speckle, noise), not detail, so the measure is the distance from 1 either way.
    detail = finals_table(settings, "eval/detail_hf_ratio", transform=_log_gap)
    pieces = finals_table(settings, "eval/fragmented_share")
    rows = [
        _row("Q1a", "As zn grows, images show finer detail and look more complete.",
             "gap in fine detail to real data, |ln(detail ratio)| (0 = like real): lower at the largest zn than at the smallest",
             ["eval/detail_hf_ratio"], detail, stats.trend(detail, low, high, "down") if detail else _absent(), settings),
        _row("Q1b", "If zn is too large (500), the images come out segmented.",
             "share of images in 2+ pieces: higher at the largest zn than at every other zn (shapes only)",
             ["eval/fragmented_share"], pieces, stats.above_all(pieces, high) if pieces else _missing(settings, "eval/fragmented_share"), settings),
    ]  # fmt: skip
    for family, key, words in (("dcgan", "eval/jacobian_dims90", "directions holding 90 % of the generator Jacobian's energy"),
                               ("vae", "eval/active_units", "active units of the VAE")):  # fmt: skip
        members = [st for st in settings if st.runs[0].config.get("model", "dcgan") == family]
        if members or family == "dcgan":
            used = finals_table(members, key, per_zn=True)
            lo, hi = _ends(members)
            rows.append(_row(f"Q1c ({'GAN' if family == 'dcgan' else 'VAE'})",
                             "A larger zn holds dimensions the generator cannot use.",
                             f"share of zn in use ({words} / zn): lower at the largest zn than at the smallest",
                             [key], used, stats.trend(used, lo, hi, "down") if used else _absent(), members))  # fmt: skip
    return rows


def _log_gap(ratio: float) -> float | None:
    return abs(math.log(ratio)) if ratio > 0 else None


def _absent(why: str = "not logged by these runs") -> tuple[str, str]:
    return stats.UNMEASURABLE, why


def _missing(settings, key: str) -> tuple[str, str]:
    """A measure that is missing: on a dataset that cannot log it (registry: its datasets), not measurable
    there; on one that can, these runs predate it."""
    need = registry.metric(key).datasets
    datasets = {r.config.get("dataset", "shapes") for st in settings for r in st.runs}
    if need is None or datasets <= set(need):
        return _absent()
    return _absent(f"{'/'.join(need)} only: not measurable on this dataset")


def plateau_epochs(settings) -> dict[str, dict]:
    """Per run, the plateau epoch of its FD curve (the last epoch when still improving: a lower bound)."""
    def value(r):
        pts = r.series("eval/fd")
        p = F.plateau(pts, "min")
        if p["kind"] in ("plateau", "unconfirmed"):
            return float(p["epoch"])
        return float(pts[-1][0]) if p["kind"] == "still-improving" else None

    return N.seed_table(settings, value)


def q2_row(settings) -> ClaimRow:
    table = plateau_epochs(settings)
    evaluated = max((len(r.series("eval/fd")) for st in settings for r in st.runs), default=0)
    verdict = stats.level(table, EARLY_EPOCHS, "below") if evaluated >= PLATEAU_EPOCHS else \
        _absent(f"needs {PLATEAU_EPOCHS}+ evaluated epochs (epochs 1–{EARLY_EPOCHS} and 2 after), these runs have {evaluated}")  # fmt: skip
    return _row("Q2", f"Fast gains in epochs 1–{EARLY_EPOCHS}, then a plateau.",
                f"plateau epoch of each run's Fréchet distance (the plateau rule in Q2): at or before epoch {EARLY_EPOCHS}",
                ["eval/fd"], table, verdict, settings)  # fmt: skip


def q3_rows(settings) -> list[ClaimRow]:
    rows = []
    for method in ("slerp", "lerp"):
        table = finals_table(settings, f"eval/class_flips_{method}")
        verdict = stats.level(table, GRADUAL_FLIPS, "below") if table else _missing(settings, f"eval/class_flips_{method}")
        rows.append(_row(f"Q3 ({method})", "Moving z gives a gradual morph from image 1 to image 2.",
                         f"shape changes along a {method} path between two bank images: at most {GRADUAL_FLIPS:g} per path",
                         [f"eval/class_flips_{method}"], table, verdict, settings))  # fmt: skip
    return rows


def table(settings) -> list[ClaimRow]:
    return [*q1_rows(settings), q2_row(settings), *q3_rows(settings)]
