"""A saved tagger in a plain ``transformers`` token-classification pipeline, one tag per word.

The pipeline labels subwords. Its aggregation strategies are made for B-/I- entity labels: POS
tags have no prefix, so ``aggregation_strategy="first"`` glues neighbouring words that share a tag
into one "entity" ("Arzt soll" -> "Arztsoll"). The tagger was trained on the first subword of
each word; `pipeline_word_tags` reads exactly that label back from the pipeline's subword output.
The tag-set heads (``ud_de``, STTS, ...) live outside ``transformers``: use `TokenTagger` for them.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from xdomain_nlp.errors import InputError


def pipeline_word_tags(pipe, words: Sequence[str]) -> list[str]:
    """One tag per word of a pre-tokenised sentence from ``pipeline("token-classification", model_dir)``."""
    words = list(words)
    if not words or any(not w or any(c.isspace() for c in w) for w in words):
        raise InputError(f"words must be non-empty and without whitespace, got {words!r}")
    (tokens,) = pipe([words], is_split_into_words=True, aggregation_strategy="none", ignore_labels=[])
    starts, position = [], 0
    for word in words:  # the pipeline joins the words with single spaces and reports offsets in that text
        starts.append(position)
        position += len(word) + 1
    tags: list[str | None] = [None] * len(words)
    for token in sorted(tokens, key=lambda t: t["index"]):
        i = bisect.bisect_right(starts, token["start"]) - 1
        if tags[i] is None:  # the first subword of the word carries its tag
            tags[i] = token["entity"]
    missing = [words[i] for i, t in enumerate(tags) if t is None]
    if missing:
        raise InputError(f"the pipeline returned no subword for the words {missing} (cut off at its max length?)")
    return tags
