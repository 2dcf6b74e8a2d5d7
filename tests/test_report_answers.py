"""The report opens with answers written from the numbers, then the claims table with verdicts from
the data; no raw eval/ key in the answers, no percentage of 1000 % or more anywhere. Runs are
written by hand (config, metrics, status) with the claim metrics' keys."""

from __future__ import annotations

import re

from analysis import build, questions
from analysis.document import Heading
from analysis.load.study import load_loose
from analysis.report import main as report_main
from tests.test_report_stamps import STAMPED, write_run

EPOCHS = 7


def _jitter(zn: int, seed: int) -> float:
    """A seed-and-zn wobble in [-0.01, 0.01]: differences between settings vary over seeds, as real ones do."""
    return ((seed * 3 + zn // 50) % 5 - 2) * 0.005


def _lines(zn: int, seed: int, shapes: bool) -> list[dict]:
    out, j = [], _jitter(zn, seed)
    fast = 3 if seed % 2 == 0 else 2  # fast gains to epoch 2 or 3, then flat: the plateau epoch varies over seeds
    for e in range(1, EPOCHS + 1):
        fd = 300 / min(e, fast) - e * 0.1 + seed
        row = {**STAMPED, "eval/fd": fd + zn / 10, "eval/precision": (0.02 if zn == 500 else 0.8) + 0.01 * seed + j,
               "eval/recall": 0.3 + 0.02 * seed, "eval/detail_hf_ratio": 0.5 + zn / 1000 + 0.01 * seed + j,
               "eval/jacobian_dims90": 20 + seed + 100 * j, "eval/interp_cv_slerp": 0.3 + j, "eval/interp_cv_lerp": 0.5 + 0.01 * seed}  # fmt: skip
        if shapes:
            row.update({"eval/fragmented_share": (0.6 if zn == 500 else 0.05) + 0.01 * seed + j,
                        "eval/class_flips_slerp": 0.7 + 0.05 * seed + j, "eval/class_flips_lerp": 2.5 + 0.1 * seed + j})  # fmt: skip
        out.append(row)
    return out


def _study(tmp_path, shapes=True, seeds=(0, 1, 2, 3, 4)):
    """5 seeds: with 3 zn, Page's test over 3 seeds cannot go below p = 2/6³ ≈ 0.009, too little for Holm over 6 claims."""
    dirs = [write_run(tmp_path / "runs", f"zn{zn}-s{s}", {"zn": zn, "seed": s, "epoch_size": 4800, "model": "dcgan", "dataset": "shapes" if shapes else "folder:/data/faces"}, _lines(zn, s, shapes))
            for zn in (50, 100, 500) for s in seeds]  # fmt: skip
    return load_loose(dirs)


def test_claims_table_verdicts_from_the_data(tmp_path):
    rows = {r.code: r for r in questions.claims_table(_study(tmp_path).settings)}
    assert rows["Q1a"].verdict == "supported"  # the detail ratio nears 1 (real data's) as zn grows, in every seed
    assert rows["Q1b"].verdict == "supported"  # zn=500 in pieces far more often than every other zn
    assert rows["Q1c (GAN)"].verdict == "supported"  # 20-22 directions: a falling share of zn
    assert rows["Q2"].verdict == "supported" and rows["Q3 (slerp)"].verdict == "supported"
    assert rows["Q3 (lerp)"].verdict == "contradicted"  # 2.5+ shape changes per path
    assert rows["Q1a"].budget == f"{EPOCHS} epochs × 4,800 images"
    assert rows["Q1a"].values["zn=50"].endswith("(n=5)")
    assert rows["Q1a"].test.startswith("Page's trend test") and rows["Q1b"].test.startswith("intersection-union")
    assert all(r.p_adjusted >= r.outcome.p for r in rows.values() if r.outcome.p is not None)  # Holm never lowers a p


def test_other_dataset_is_not_measurable_and_one_seed_resolves_nothing(tmp_path):
    rows = {r.code: r for r in questions.claims_table(_study(tmp_path / "a", shapes=False).settings)}
    assert rows["Q1b"].verdict == rows["Q3 (slerp)"].verdict == "not measurable"
    assert rows["Q1b"].why == "shapes only: not measurable on this dataset"
    one = {r.code: r for r in questions.claims_table(_study(tmp_path / "b", seeds=(0,)).settings)}
    assert one["Q1a"].verdict == "not resolved" and "one seed" in one["Q1a"].why


def test_report_opens_with_answers_then_claims(tmp_path):
    study = _study(tmp_path)
    doc = build.build(study, tmp_path / "figs")
    assert [s.anchor for s in doc.sections][:3] == ["answers", "claims", "runs"] and doc.sections[
        -1
    ].anchor == "appendix"
    answers = doc.sections[0]
    text = " ".join(b.text for b in answers.blocks if hasattr(b, "text"))
    assert "eval/" not in text and "Q1, latent size" in text and "Q2, training" in text and "Q3, interpolation" in text
    # the quality numbers' differences are exploratory (BH over every measure × pair), never a study finding
    assert (
        "precision (higher is better) (exploratory, BH over 30 tests): zn=500 is lower than zn=50, zn=100, in 5/5 seeds each"
        in text
    )
    assert "Q1a \u201cAs zn grows" in text and "Page p = " in text and "Holm-adjusted p = " in text
    assert sum(1 for b in answers.blocks if hasattr(b, "path")) == 3  # one figure per question
    headings = [b.text for b in answers.blocks if isinstance(b, Heading)]  # each question a heading, not a paragraph
    assert [h.split(",")[0] for h in headings] == ["Q1", "Q2", "Q3"]
    out = tmp_path / "out"
    assert report_main(["--runs", *(str(r.path) for r in study.runs), "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert (
        html.index('<section id="answers">') < html.index('<section id="claims">') < html.index('<section id="runs">')
    )
    assert "<small>eval/detail_hf_ratio</small>" in html and "Fréchet distance (lower is better)" in html
    # verdicts styled: a class per verdict (report.css colours each), marked in Markdown; the answers' claims too
    assert (
        '<td class="verdict v-supported">supported</td>' in html
        and '<td class="verdict v-contradicted">contradicted</td>' in html
    )
    assert '<p class="claim v-contradicted">Q3 (lerp)' in html and ".v-not-resolved" in html
    md = (out / "report.md").read_text()
    assert "| ✅ **supported** |" in md and "❌ Q3 (lerp)" in md
    assert "± is the half-width of the 95 % t-interval over seeds, everywhere in this report." in html
    for text in (html, (out / "report.md").read_text()):
        assert not re.search(r"\d{4,}(\.\d+)? ?%", text.replace(",", ""))


def test_detail_above_real_is_not_finer_detail(tmp_path):
    """Q1a measures the distance from real data's share of fine detail, either way: a generator whose
    images carry more high-frequency energy than real ones (speckle) is not 'finer detail'."""

    def lines(zn, seed):
        return [{**STAMPED, "eval/detail_hf_ratio": (1.0 if zn == 50 else 1.6) + 0.01 * seed}]

    dirs = [write_run(tmp_path / "runs", f"zn{zn}-s{s}", {"zn": zn, "seed": s, "epoch_size": 4800}, lines(zn, s))
            for zn in (50, 500) for s in (0, 1, 2)]  # fmt: skip
    rows = {r.code: r for r in questions.claims_table(load_loose(dirs).settings)}
    assert rows["Q1a"].verdict == "contradicted"  # the ratio rose with zn, away from real data's 1
