"""The VADER general sentiment lexicon: the opinion seeds of co-extraction and its judge.

One random half seeds the co-extractor; the other, never seen, judges the words it finds.
"""

from __future__ import annotations

import random

from xdomain_nlp.errors import InputError
from xdomain_nlp.relational.lexicon import Lexicon


def load_vader_lexicon() -> dict[str, float]:
    """The VADER general sentiment lexicon (MIT, PyPI ``vaderSentiment``): word -> valence in [-1, 1].

    Only single alphabetic words are kept (the file also lists emoticons and slang like ":)").
    """
    import importlib.resources
    import re

    text = importlib.resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    lexicon = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise InputError(f"vader_lexicon.txt:{number}: expected word<TAB>valence, got {line!r}")
        if re.fullmatch(r"[a-z][a-z'-]*", parts[0]):
            lexicon[parts[0]] = max(-1.0, min(1.0, float(parts[1]) / 4.0))
    return lexicon


def split_lexicon(lexicon: dict[str, float], seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """Two disjoint random halves: seeds from one, judgement on the other."""
    words = sorted(lexicon)
    random.Random(seed).shuffle(words)
    half = len(words) // 2
    return {w: lexicon[w] for w in words[:half]}, {w: lexicon[w] for w in words[half:]}


def judge_lexicon(lexicon: Lexicon, held_out: dict[str, float], k: int = 100) -> dict[str, float]:
    """Precision of the top ``k`` new opinion words against a held-out general lexicon.

    ``precision_at_k``: share of the top k found in the held-out half (a lower bound: a real
    movie opinion word missing from the general lexicon counts as wrong); ``polarity_accuracy``:
    share of those found whose sign matches.
    """
    top = lexicon.new_opinion_words()[:k]
    found = [w for w in top if w in held_out]
    right = [w for w in found if (lexicon.opinion[w] > 0) == (held_out[w] > 0)]
    return {
        "extracted": len(lexicon.new_opinion_words()),
        "k": len(top),
        "precision_at_k": 100 * len(found) / max(len(top), 1),
        "polarity_accuracy": 100 * len(right) / max(len(found), 1),
        "topics": len(lexicon.topic),
    }
