"""Score a tagger on a labelled corpus: accuracy, per-tag report and confusion counts, words per second."""

from __future__ import annotations

import time
from collections.abc import Sequence

import datasets
import torch

from xdomain_nlp.errors import InputError
from xdomain_nlp.tagging.alignment import EncodedWindow
from xdomain_nlp.tagging.network import TokenTagger
from xdomain_nlp.tagging.predict import predict_windows
from xdomain_nlp.training.metrics import calibration_report, tagging_report


def score_tagger(
    model: TokenTagger, corpus: datasets.Dataset, windows: Sequence[EncodedWindow], *, label_column: str,
    pad_id: int, tag_set: str | None = None, max_tokens: int = 16384,
    autocast_dtype: torch.dtype | None = None,
) -> dict:  # fmt: skip
    """``tagging_report`` of the predictions (with ``tag_set``'s head, when given) against the
    ``label_column`` tags, plus ``words_per_s`` of the prediction itself and ``calibration`` (does the
    probability of a predicted tag match how often it is right)."""
    labels = model.labels_for(tag_set)
    label2id = {t: i for i, t in enumerate(labels)}
    unknown = sorted({t for tags in corpus[label_column] for t in tags} - set(label2id))
    if unknown:
        raise InputError(
            f"column {label_column!r} has tags the {tag_set or model.source_tag_set} head lacks: {unknown}"
        )
    start = time.perf_counter()
    pred, prob = predict_windows(
        model, windows, len(corpus), pad_id=pad_id, max_tokens=max_tokens,
        autocast_dtype=autocast_dtype, tag_set=tag_set,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    gold = [[label2id[t] for t in tags] for tags in corpus[label_column]]
    report = tagging_report(gold, pred, labels)
    report["words_per_s"] = report["words"] / seconds
    hits = [g == p for gs, ps in zip(gold, pred) for g, p in zip(gs, ps)]
    report["calibration"] = calibration_report([q for qs in prob for q in qs], hits)
    return report
