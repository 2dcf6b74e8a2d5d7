"""Q1, latent size: what changes as zn grows? The study's claims by eye: finer detail as zn grows
(Q1a), segmented images at a too-large zn (Q1b); and ours: a larger zn holds dimensions the
generator cannot use (Q1c). Its claims' rows, its answer, and its evidence: the same bank z at the
final epoch per setting, every measure against zn, the differences beyond seed noise, the caveats
(seeds, collapse, the capacity confound, feature spaces)."""

from __future__ import annotations

import math
import statistics

from analysis import figures, numbers, stats
from analysis.document import Figure, Findings, Para, Section
from analysis.questions import claims
from analysis.questions.claims import ClaimRow
from analysis.text import fmt, gap
from genlat.metrics import registry

NAME, TITLE, QUESTION = "q1", "Q1: latent size", "What changes as zn grows?"
HEADING = "Q1, latent size: what changes as zn grows?"
# The answer's quality numbers: the headline ones (eval/fd, eval/precision, eval/recall)
QUALITY = tuple(m.key for m in registry.METRICS if m.role == registry.QUALITY and m.headline)
ANSWER_KEYS = ("eval/fd", "eval/precision", "eval/detail_hf_ratio", "eval/fragmented_share")  # the answer's figure
USED = (("dcgan", "GAN", "eval/jacobian_dims90", "directions holding 90 % of the generator Jacobian's energy"),
        ("vae", "VAE", "eval/active_units", "active units of the VAE"))  # Q1c per family: its measure of z in use  # fmt: skip


# --- the claims -----------------------------------------------------------------------------------
def claim_rows(settings) -> list[ClaimRow]:
    high = _ends(settings)[1]
    # "Finer detail, more complete" means closer to real data: a ratio above 1 is excess high-frequency
    # energy (speckle, noise), not detail, so the measure is the distance from 1 either way.
    detail = claims.finals_table(settings, "eval/detail_hf_ratio", transform=_log_gap)
    pieces = claims.finals_table(settings, "eval/fragmented_share")
    zn = claims.zn_of(settings)
    rows = [
        claims.row("Q1a", "As zn grows, images show finer detail and look more complete.",
                   "gap in fine detail to real data, |ln(detail ratio)| (0 = like real): falls as zn grows, over every zn",
                   ["eval/detail_hf_ratio"], detail, stats.trend(detail, zn, "down") if detail else claims.absent(), settings,
                   practical=(0.05, "a 5 % change in fine detail per doubling of zn")),
        claims.row("Q1b", "If zn is too large (500), the images come out segmented.",
                   "share of images in 2+ pieces: higher at the largest zn than at every other zn (shapes only)",
                   ["eval/fragmented_share"], pieces,
                   stats.above_all(pieces, high) if pieces else claims.missing(settings, "eval/fragmented_share"), settings,
                   practical=(0.05, "5 % of images")),
    ]  # fmt: skip
    for family, short, key, words in USED:
        members = [st for st in settings if st.runs[0].config.get("model", "dcgan") == family]
        if members or family == "dcgan":
            used = claims.finals_table(members, key, per_zn=True)
            rows.append(claims.row(f"Q1c ({short})", "A larger zn holds dimensions the generator cannot use.",
                                   f"share of zn in use ({words} / zn): falls as zn grows, over every zn",
                                   [key], used, stats.trend(used, claims.zn_of(members), "down") if used else claims.absent(), members,
                                   practical=(0.05, "5 % of zn per doubling of zn")))  # fmt: skip
    return rows


def _ends(settings) -> tuple[str, str] | tuple[None, None]:
    """The labels of the smallest and the largest zn."""
    zns = [st for st in settings if isinstance(st.zn, (int, float))]
    if not zns:
        return None, None
    return min(zns, key=lambda s: s.zn).label, max(zns, key=lambda s: s.zn).label


def _log_gap(ratio: float) -> float | None:
    return abs(math.log(ratio)) if ratio > 0 else None


# --- the answer -----------------------------------------------------------------------------------
def answer(settings, rows: list[ClaimRow]) -> list:
    """The claims' sentences, then what the exploratory family says about the quality numbers (never a
    finding of the study: labelled with its number of tests)."""
    out = [claims.para(r) for r in rows]
    tests = numbers.exploratory(settings)
    if not tests and len(settings) > 1:
        out.append(ONE_SEED)
    for key in QUALITY:
        out += stats.exploratory_sentences(registry.titled(key), key, tests, len(tests))
    return out


def answer_figure(settings, rows: list[ClaimRow], figs) -> Figure | None:
    panels = {registry.titled(k): v for k in ANSWER_KEYS if (v := numbers.seed_lists(settings, k))}
    for r in rows:
        if r.code.startswith("Q1c") and r.values:
            used = claims.finals_table(settings, r.keys[0], per_zn=True)
            panels[f"share of zn in use ({r.code[5:-1]})"] = {lab: list(v.values()) for lab, v in used.items()}
    if not panels:
        return None
    bounds = {registry.titled(k): registry.bounds(k) for k in ANSWER_KEYS}
    bounds.update({title: (0.0, 1.0) for title in panels if title.startswith("share of zn in use")})
    path = figures.with_intervals(panels, [st.label for st in settings], figs / "answer_q1.png", bounds)
    return Figure(
        path,
        "At the final epoch, per setting: mean with its 95 % interval over seeds (bars, cut at the measure's "
        "possible range) and each seed (grey dots).",
    )


# --- the evidence ---------------------------------------------------------------------------------
def evidence(study, figs) -> Section:
    """One row per setting, every measure against zn, parameter counts; the findings."""
    s = Section(NAME, TITLE, QUESTION)
    settings = study.settings
    grids = [(f"{st.label} seed {r.config.get('seed', r.name)}", r.samples[max(r.samples)], r.config.get("grid_nrow", 8))
             for st in settings for r in st.runs if r.samples]  # fmt: skip
    if grids:
        count = min(g[2] for g in grids)
        path = figures.comparison(grids, count, figs / "q1_comparison.png")
        epochs = sorted({max(r.samples) for st in settings for r in st.runs if r.samples})
        s.blocks.append(Figure(path, f"The first {count} images of the fixed latent bank at the final epoch "
                                     f"({', '.join(map(str, epochs))}), one row per run: every seed of every setting."))  # fmt: skip
    keys = numbers.eval_keys(study.runs)
    values = {k: {st.label: numbers.finals(st, k) for st in settings} for k in keys}
    if keys:
        path = figures.against_settings(values, [st.label for st in settings], figs / "q1_metrics.png")
        s.blocks.append(Figure(path, "Each eval metric at the final epoch against the setting: mean (line), "
                                     "each seed (dots), the 95 % interval over seeds (band, with 2+ seeds)."))  # fmt: skip
    s.blocks.append(Para(stats.PAIRWISE_RULE))
    s.blocks.append(Findings(_findings(study, keys, values) or ["No eval metrics were logged: nothing to compare."]))
    return s


def _findings(study, keys: list[str], values: dict[str, dict[str, list[float]]]) -> list[str]:
    settings = study.settings
    tests = numbers.exploratory(settings)
    called = {t.key for t in tests if t.called}
    items = [exploratory_note(tests)]
    # a ranking only where the exploratory family calls some difference of that key
    items += [
        t
        for k in keys
        if registry.metric(k).role == registry.QUALITY and k in called and (t := best_setting(k, values[k]))
    ]
    for k in numbers.headline_keys(keys):
        items += stats.exploratory_sentences(registry.name(k), k, tests, len(tests))
    items.append(_final_epoch_note(settings, keys))
    items.append(seed_note({st.label: len(st.runs) for st in settings}) if settings else None)
    items.append(collapsed({st.label: {k: sum(v) / len(v) for k in ("eval/precision", "eval/recall") if (v := numbers.finals(st, k))}
                            for st in settings}))  # fmt: skip
    items.append(_active_units(settings))
    items.append(
        capacity_confound(
            {st.label: (st.runs[0].config.get("g_params"), st.runs[0].config.get("d_params")) for st in settings}
        )
    )
    items.append(feature_spaces(numbers.feature_space_names(study.runs)))
    return [i for i in items if i]


ONE_SEED = "Too few seeds: no pair of settings has 2+ seeds each, so no difference between settings can be called."


def exploratory_note(tests) -> str | None:
    """How many exploratory tests ran, how many were below 0.05 before and after the correction."""
    if not tests:
        return ONE_SEED
    raw = sum(t.diff.p < stats.ALPHA for t in tests)
    return (f"Exploratory family: {len(tests)} tests (every eval measure × every pair of settings); {raw} below 0.05 "
            f"uncorrected (chance alone expects {fmt(stats.ALPHA * len(tests), 2)}), {sum(t.called for t in tests)} "
            f"called after Benjamini-Hochberg at a false discovery rate of 0.05. Not findings of the study.")  # fmt: skip


def best_setting(key: str, by_setting: dict[str, list[float]]) -> str | None:
    """Which setting is best by `key` at the final epoch, and by how much; None for a key with no better
    side. The report prints it only where the exploratory family calls a difference of that key."""
    way = registry.direction(key)
    scored = {label: v for label, values in by_setting.items() if (v := stats.finite(values))}
    if way is None or len(scored) < 2:
        return None
    means = {label: statistics.fmean(v) for label, v in scored.items()}
    ranked = sorted(means, key=means.get, reverse=way == "max")
    best, second, worst = ranked[0], ranked[1], ranked[-1]
    if means[best] == means[worst]:
        return f"{key}: every setting scores {fmt(means[best])}; no setting is better by this metric."
    word = "lower" if way == "min" else "higher"
    text = f"{key}: {best} is best ({stats.describe(scored[best])}), {gap(means[best], means[second])} {word} than the runner-up {second} ({fmt(means[second])})"
    if worst != second:
        text += f" and {gap(means[best], means[worst])} {word} than the worst, {worst} ({fmt(means[worst])})"
    return text + "."


def collapsed(final: dict[str, dict[str, float]]) -> str | None:
    """Settings whose final precision and recall are both 0: no generated image lands near a real one."""
    dead = [label for label, v in final.items() if v.get("eval/precision") == 0 and v.get("eval/recall") == 0]
    if not dead:
        return None
    scope = "Every setting" if len(dead) == len(final) else ", ".join(dead)
    return (f"{scope}: precision = recall = 0 at the final epoch: no generated image falls inside the real images' "
            f"k-NN manifold, so these runs have not learned the data yet (or collapsed); differences in FD/KID between "
            f"them rank failures, not good generators.")  # fmt: skip


def seed_note(seeds_per_setting: dict[str, int]) -> str | None:
    single = [label for label, n in seeds_per_setting.items() if n < 2]
    if not single:
        return f"Every setting has {min(seeds_per_setting.values())}+ seeds: ± is the half-width of the 95 % interval over them."
    scope = "every setting" if len(single) == len(seeds_per_setting) else ", ".join(single)
    return (
        f"One seed for {scope}: differences between settings are not tested against seed-to-seed variation; "
        f"treat them as observations, not results."
    )


def capacity_confound(params: dict[str, tuple[int, int]]) -> str | None:
    """params: setting -> (G parameters, D parameters)."""
    known = {k: v for k, v in params.items() if v[0] and v[1]}
    if len(known) < 2:
        return None
    lo, hi = min(known, key=lambda k: known[k][0]), max(known, key=lambda k: known[k][0])
    (g_lo, _), (g_hi, _) = known[lo], known[hi]
    ds = sorted({v[1] for v in known.values()})
    d_text = f"D stays at {ds[0]:,}" if len(ds) == 1 else f"D ranges {ds[0]:,}–{ds[-1]:,}"
    return (f"Capacity confound: G has {g_lo:,} parameters at {lo} and {g_hi:,} at {hi} (×{g_hi / g_lo:.2f}) while "
            f"{d_text}; a difference between settings may come from capacity as much as from zn.")  # fmt: skip


def feature_spaces(spaces: set[str]) -> str | None:
    if len(spaces) > 1:
        return (
            f"The runs were evaluated in {len(spaces)} different feature spaces ({', '.join(sorted(spaces))}): "
            f"their FD, KID, precision/recall and PPL are on different scales and are not comparable."
        )
    return None


def _final_epoch_note(settings, keys) -> str | None:
    epochs = numbers.final_epochs(settings, keys[0]) if keys else set()
    if len(epochs) > 1:
        return f"Final epochs differ between runs ({', '.join(map(str, sorted(epochs)))}): later epochs have had more training."
    return None


def _active_units(settings) -> str | None:
    parts = [f"{st.label}: {fmt(sum(v) / len(v))} of {st.zn} ({sum(v) / len(v) / st.zn:.0%})"
             for st in settings if (v := numbers.finals(st, "eval/active_units")) and st.zn]  # fmt: skip
    return ("Active latent units at the final epoch: " + "; ".join(parts) + ".") if parts else None
