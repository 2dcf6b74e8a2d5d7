"""Stage two of the report: one module per question of the study, each built from one stamp group's
settings, so the reader of one question opens one file. Every module has the same parts:

    NAME, TITLE, QUESTION, HEADING                     its section's name, title and question; its answer's heading
    claim_rows(settings) -> list[ClaimRow]             its rows of the claims table (questions/claims.py)
    answer(settings, rows) -> list[str | Para]         its answer in a few sentences, from its rows and the numbers
    answer_figure(settings, rows, figs) -> Figure      the one figure beside the answer (or None)
    evidence(study, figs) -> Section                   its evidence section: figures and findings

`figs / "name.png"` is where a figure goes (analysis/build.py: FigDir)."""

from __future__ import annotations

from analysis.questions import q1_latent, q2_time, q3_interp
from analysis.questions.claims import ClaimRow

QUESTIONS = (q1_latent, q2_time, q3_interp)


def claims_table(settings) -> list[ClaimRow]:
    """Every question's claims, in order, decided as one family (Holm): the claims table's rows."""
    from analysis.questions.claims import decide

    return decide([row for q in QUESTIONS for row in q.claim_rows(settings)])
