"""Attachment scores, as the CoNLL 2018 shared task defines them (every word, punctuation included)."""

from __future__ import annotations

from collections.abc import Sequence

from xdomain_nlp.errors import InputError


def attachment_scores(
    gold_heads: Sequence[Sequence[int]],
    gold_rels: Sequence[Sequence[str]],
    pred_heads: Sequence[Sequence[int]],
    pred_rels: Sequence[Sequence[str]],
) -> dict[str, float]:
    """UAS, LAS on universal relations (``nsubj:pass`` counts as ``nsubj``), and LAS on full labels."""
    words = uas = las = las_full = 0
    for i, (gh, gr, ph, pr) in enumerate(zip(gold_heads, gold_rels, pred_heads, pred_rels, strict=True)):
        if len(gh) != len(ph):
            raise InputError(f"sentence {i}: {len(gh)} gold words but {len(ph)} predicted")
        for h1, r1, h2, r2 in zip(gh, gr, ph, pr):
            words += 1
            if h1 == h2:
                uas += 1
                las += r1.split(":")[0] == r2.split(":")[0]
                las_full += r1 == r2
    if not words:
        raise InputError("no words to score")
    return {"uas": 100 * uas / words, "las": 100 * las / words, "las_full": 100 * las_full / words, "words": words}
