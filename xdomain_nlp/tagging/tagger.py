"""`Tagger`: a saved tagger as one object, ``Tagger.load(path).predict(texts)``.

It reuses what the model was trained with (window length and overlap), serves every tag set the
model has (its own labels and each mapping head), and scores a corpus exactly as
``xdomain-nlp evaluate`` does, because that command calls it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from typing import Any

import datasets
import numpy as np
import torch
from tqdm.auto import tqdm

from xdomain_nlp.devices import inference_batch_tokens, inference_dtype, pick_device
from xdomain_nlp.errors import InputError
from xdomain_nlp.modeldir import window_settings
from xdomain_nlp.tagging.alignment import WordPieceCache
from xdomain_nlp.tagging.data import encode_corpus, encode_words
from xdomain_nlp.tagging.network import TokenTagger, load_tagger
from xdomain_nlp.tagging.predict import predict_tag_sets
from xdomain_nlp.training.metrics import confusion_counts, confusion_report

Inputs = str | Sequence[str] | Sequence[Sequence[str]]


@cache
def spacy_tokenizer(lang: str):
    """spaCy's rule-based tokenizer for ``lang`` (no model download), built once per language."""
    import spacy

    return spacy.blank(lang).tokenizer


def split_words(texts: Sequence[str], lang: str) -> list[list[str]]:
    """Words of each text by spaCy's tokenizer for ``lang``."""
    docs = spacy_tokenizer(lang).pipe(texts, batch_size=1000)
    return [[t.text for t in doc if not t.is_space] for doc in docs]


def as_sentences(inputs: Inputs, lang: str) -> tuple[list[list[str]], bool]:
    """Word lists for ``inputs`` (a text, or a list of texts and word lists), and whether one text was given."""
    if isinstance(inputs, str):
        return split_words([inputs], lang), True
    inputs = list(inputs)
    texts = [i for i, x in enumerate(inputs) if isinstance(x, str)]
    split = dict(zip(texts, split_words([inputs[i] for i in texts], lang)))
    out = []
    for i, x in enumerate(inputs):
        if i in split:
            out.append(split[i])
        elif isinstance(x, (list, tuple)) and all(isinstance(w, str) and w for w in x):
            out.append(list(x))
        else:
            raise TypeError(
                f"predict takes a text, a list of texts, or a list of word lists; item {i} is {type(x).__name__}"
                + (" with an empty or non-text word" if isinstance(x, (list, tuple)) else "")
            )
    return out, False


class Tagger:
    """Tags words with the model's own tag set or any of its mapping heads (``tag_set=``).

    Example (texts are split into words by spaCy's tokenizer; word lists are taken as they are)::

        >>> tagger = Tagger.load(tagger_dir)  # on the GPU when there is one
        >>> [t["words"] for t in tagger.predict(["Ein Satz.", ["Noch", "einer", "."]])]
        [['Ein', 'Satz', '.'], ['Noch', 'einer', '.']]
        >>> set(tagger.predict("Ein Satz.")["tags"]) <= set(tagger.labels())
        True
    """

    def __init__(
        self, model: TokenTagger, tokenizer, meta: dict[str, Any], *, device: str = "auto", precision: str = "auto",
        torch_compile: bool = False, max_length: int | None = None, window_overlap: int | None = None,
        max_tokens: int | None = None,
    ) -> None:  # fmt: skip
        """``torch_compile=True`` compiles the model (``dynamic=True``) on the first `predict`, which
        then takes seconds longer; later calls tag faster at the same accuracy, so it pays off on large
        inputs (benchmarks/results/compile_and_int8.json has the figures, the break-even in docs/training.md).
        ``max_length`` / ``window_overlap`` (default: what the model was trained with) and ``max_tokens``
        (pieces a forward pass, default by device) are the spaCy component's settings."""
        self.model, self.tokenizer, self.meta = model, tokenizer, meta
        self.device = pick_device(device)
        self.dtype = inference_dtype(self.device, precision)
        self.max_length, self.window_overlap = window_settings(meta, max_length, window_overlap)
        self.max_tokens = max_tokens or inference_batch_tokens(self.device)
        self.pieces = WordPieceCache(tokenizer, limit=1_000_000)  # each distinct word tokenized once, across calls
        self.model.to(self.device).eval()
        if torch_compile:
            self.model.compile(dynamic=True)

    @classmethod
    def load(cls, path_or_hub_id: str | os.PathLike, *, meta: dict[str, Any] | None = None, **settings: Any) -> Tagger:
        """``meta``: the folder's ``xdomain.json`` when the caller has read it (`xdomain_nlp.load`)."""
        model, tokenizer, meta = load_tagger(path_or_hub_id, meta=meta)
        return cls(model, tokenizer, meta, **settings)

    def save(self, path: str | os.PathLike) -> None:
        """The model folder (weights, tokenizer, ``xdomain.json``), as `load` reads it."""
        self.model.save(path, self.tokenizer, self.meta)

    @property
    def tag_sets(self) -> list[str]:
        return list(self.model.available_tag_sets)

    def labels(self, tag_set: str | None = None) -> list[str]:
        if tag_set is not None and tag_set not in self.model.available_tag_sets:
            raise InputError(f"no tag set {tag_set!r}; this model has {self.model.available_tag_sets}")
        return list(self.model.labels_for(tag_set))

    def predict(
        self, inputs: Inputs, *, tag_set: str | None = None, lang: str = "xx", batch_size: int = 1024,
        progress: bool | None = None,
    ) -> dict | list[dict]:  # fmt: skip
        """``{"words", "tags", "probabilities"}`` for a text (one dict) or for each of many.

        Texts are split into words by spaCy's tokenizer for ``lang``; word lists are taken as they
        are. An empty text gets empty lists. ``batch_size`` sentences are encoded at a time (a
        progress bar shows for more than one batch)."""
        sentences, single = as_sentences(inputs, lang)
        tags, probs = self.tag_words(sentences, tag_set=tag_set, batch_size=batch_size, progress=progress)
        out = [{"words": w, "tags": t, "probabilities": p} for w, t, p in zip(sentences, tags, probs)]
        return out[0] if single else out

    def tag_words(
        self, sentences: Sequence[Sequence[str]], *, tag_set: str | None = None, batch_size: int = 1024,
        progress: bool | None = None,
    ) -> tuple[list[list[str]], list[list[float]]]:  # fmt: skip
        """Tags and their probabilities for word lists, ``batch_size`` sentences at a time."""
        self.labels(tag_set)  # an unknown tag set is named before anything runs
        tags: list[list[str]] = [[] for _ in sentences]
        probs: list[list[float]] = [[] for _ in sentences]
        starts = range(0, len(sentences), batch_size)
        show = progress if progress is not None else len(starts) > 1
        for start in tqdm(starts, desc="tagging", unit="batch", disable=not show):
            end = start + batch_size
            [(tags[start:end], probs[start:end])] = self.tag_words_in(sentences[start:end], [tag_set])
        return tags, probs

    def tag_words_in(
        self, sentences: Sequence[Sequence[str]], tag_sets: Sequence[str | None]
    ) -> list[tuple[list[list[str]], list[list[float]]]]:
        """For each of ``tag_sets`` (None: the model's own), the tags and their probabilities of
        every word, from one encoder pass; an empty sentence gets empty lists."""
        label_lists = [self.labels(t) for t in tag_sets]
        out = [([[] for _ in sentences], [[] for _ in sentences]) for _ in tag_sets]
        todo = [i for i, s in enumerate(sentences) if len(s)]
        if not todo:
            return out
        windows = encode_words(
            [sentences[i] for i in todo], self.tokenizer, max_length=self.max_length, overlap=self.window_overlap,
            cache=self.pieces,
        )  # fmt: skip
        with torch.inference_mode():
            results = predict_tag_sets(
                self.model, windows, len(todo), list(tag_sets), pad_id=self.tokenizer.pad_token_id,
                max_tokens=self.max_tokens, autocast_dtype=self.dtype,
            )  # fmt: skip
        for (tags, probs), labels, (pred, prob) in zip(out, label_lists, results):
            for i, p, q in zip(todo, pred, prob):
                tags[i], probs[i] = [labels[t] for t in p], q
        return out

    def _predict_corpus(self, corpus: datasets.Dataset, tag_set: str | None, column: str | None, source: str):
        label2id = {t: i for i, t in enumerate(self.labels(tag_set))}
        windows = encode_corpus(
            corpus, self.tokenizer, label_column=column, label2id=label2id, max_length=self.max_length,
            overlap=self.window_overlap, cache=self.pieces, source=source,
        )  # fmt: skip
        return self._predict_windows(windows, len(corpus), tag_set)

    def _predict_windows(self, windows, n_sentences: int, tag_set: str | None):
        with torch.inference_mode():
            (source_pred, _), mapped = predict_tag_sets(
                self.model, windows, n_sentences, [None, tag_set], pad_id=self.tokenizer.pad_token_id,
                max_tokens=self.max_tokens, autocast_dtype=self.dtype,
            )  # fmt: skip
        return source_pred, mapped

    @property
    def gold_column(self) -> str:
        """The column of gold tags it is scored on by default: the one it was trained on."""
        return self.meta.get("config", {}).get("label_column", "upos")

    def evaluate(self, corpus: datasets.Dataset, *, tag_set: str | None = None, column: str | None = None,
                 source: str = "corpus") -> dict:  # fmt: skip
        """Accuracy on a tagged corpus (``column``: the gold tags; default the model's label column)."""
        column = column or self.gold_column
        confusion = self.confusion(corpus, tag_set=tag_set, column=column, source=source)
        report = confusion_report(confusion, self.labels(tag_set))
        return {"tag_set": tag_set or self.model.source_tag_set, "column": column, **report}

    def confusion(
        self, corpus: datasets.Dataset, *, tag_set: str | None = None, column: str | None = None,
        source: str = "corpus",
    ) -> np.ndarray:  # fmt: skip
        """Word counts ``[gold, predicted]`` on a tagged corpus: the counts of its chunks add up to it."""
        column = column or self.gold_column
        labels = self.labels(tag_set)
        _, (pred, _) = self._predict_corpus(corpus, tag_set, column, source)
        label2id = {t: i for i, t in enumerate(labels)}
        gold = [[label2id[t] for t in tags] for tags in corpus[column]]
        return confusion_counts(gold, pred, len(labels))

    def tag_corpus(self, corpus: datasets.Dataset, *, tag_set: str | None = None, source: str = "corpus"):
        """Tags and probabilities for every sentence of a corpus (one encoder pass)."""
        _, (pred, prob) = self._predict_corpus(corpus, tag_set, None, source)
        labels = self.labels(tag_set)
        return [[labels[t] for t in sentence] for sentence in pred], prob
