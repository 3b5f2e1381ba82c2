"""`SentimentClassifier`: a Food -> Movie model as one object, ``SentimentClassifier.load(path).predict(texts)``.

The package's sentiment models read a sentence as words joined by their dependency tree, so the
classifier parses first, with the parser the model was trained on (its path or Hub id is in the
model's config; a ``parser/`` folder inside the model directory, or ``parser=``, takes precedence).
The plain method (no graph layers) parses too: the parser's words are the words it was trained on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from xdomain_nlp.devices import CPU_PARSE_BATCH_TOKENS, autocast, inference_batch_tokens, inference_dtype, pick_device
from xdomain_nlp.encoders.resolve import looks_like_a_path
from xdomain_nlp.errors import InputError
from xdomain_nlp.modeldir import copy_into, local_model_dir, save_model, window_settings
from xdomain_nlp.relational.classifier import GraphSentenceClassifier, load_graph_classifier, predict_proba
from xdomain_nlp.relational.graph import build_graph
from xdomain_nlp.relational.parser import Parser
from xdomain_nlp.relational.sentences import encode_sentences
from xdomain_nlp.tagging import WordPieceCache
from xdomain_nlp.tagging.tagger import Inputs, as_sentences

PARSER_SUBDIR = "parser"


def parser_of(model_dir: Path, meta: dict[str, Any], parser: str | os.PathLike | None) -> str | os.PathLike:
    """Where the parser a sentiment model needs is: ``parser``, ``model_dir/parser``, or its config."""
    if parser is not None:
        return parser
    if (model_dir / PARSER_SUBDIR / "xdomain.json").is_file():
        return model_dir / PARSER_SUBDIR
    named = meta.get("config", {}).get("parser")
    if not named:
        raise InputError(f"{model_dir}: the model names no parser; pass parser=... (a parser directory or Hub id)")
    if not Path(named).is_dir() and looks_like_a_path(named):
        raise FileNotFoundError(
            f"{model_dir}: the parser it was trained with, {named}, is not here; pass parser=... or copy it "
            f"to {model_dir / PARSER_SUBDIR}"
        )
    return named


class SentimentClassifier:
    """Label and class probabilities for each text (``negative`` / ``positive``).

    Example (``sentiment_dir``: a model folder the Food -> Movie recipe saved, its parser inside)::

        >>> classifier = SentimentClassifier.load(sentiment_dir)
        >>> result = classifier.predict("The plot was thin, but the acting was superb.")
        >>> sorted(result["probabilities"]), result["label"] in result["probabilities"]
        (['negative', 'positive'], True)
    """

    def __init__(
        self, model: GraphSentenceClassifier, tokenizer, meta: dict[str, Any], parser: Parser, *, device: str = "auto",
        precision: str = "auto", parser_dir: Path | None = None,
    ) -> None:  # fmt: skip
        """``precision``: ``auto`` classifies in bf16 where the device runs it natively, ``fp32`` as the
        recipe scores (the parser has its own setting, `Parser`'s)."""
        self.model, self.tokenizer, self.meta, self.parser = model, tokenizer, meta, parser
        self.parser_dir = parser_dir  # where the parser was loaded from, so that a copy can travel with the model
        self.device = pick_device(device)
        self.dtype = inference_dtype(self.device, precision)
        self.max_length, self.window_overlap = window_settings(meta)
        self.pieces = WordPieceCache(tokenizer)
        self.model.to(self.device).eval()

    @classmethod
    def load(
        cls, path_or_hub_id: str | os.PathLike, *, parser: str | os.PathLike | None = None, device: str = "auto",
        precision: str = "auto", meta: dict[str, Any] | None = None,
    ) -> SentimentClassifier:  # fmt: skip
        """``meta``: the folder's ``xdomain.json`` when the caller has read it (`xdomain_nlp.load`);
        ``device`` and ``precision`` are the parser's too."""
        path = local_model_dir(path_or_hub_id)
        model, tokenizer, meta = load_graph_classifier(path, meta=meta)
        parser_dir = local_model_dir(parser_of(path, meta, parser))
        parser_model = Parser.load(parser_dir, device=device, precision=precision)
        return cls(model, tokenizer, meta, parser_model, device=device, precision=precision, parser_dir=parser_dir)

    @property
    def labels(self) -> list[str]:
        return list(self.model.labels)

    def predict(
        self, inputs: Inputs, *, lang: str = "en", batch_size: int = 256,
        progress: bool | None = None,
    ) -> dict | list[dict]:  # fmt: skip
        """``{"label", "probabilities": {label: p}}`` for a text (one dict) or for each of many.

        Decided for empty or whitespace-only text: ``label`` None and no probabilities, since
        there is no word to hold an opinion (the spaCy component leaves ``doc.cats`` empty alike)."""
        words, single = as_sentences(inputs, lang)
        out: list[dict] = [{"label": None, "probabilities": {}} for _ in words]
        todo = [i for i, w in enumerate(words) if w]
        starts = range(0, len(todo), batch_size)
        show = progress if progress is not None else len(starts) > 1
        for start in tqdm(starts, desc="classifying", unit="batch", disable=not show):
            chunk = todo[start : start + batch_size]
            probs = self.probabilities([words[i] for i in chunk])
            for i, p in zip(chunk, probs.tolist()):
                scores = dict(zip(self.labels, p))
                out[i] = {"label": max(scores, key=scores.get), "probabilities": scores}
        return out[0] if single else out

    def save(self, path: str | os.PathLike) -> Path:
        """The model folder with its parser inside (``parser/``), so it loads anywhere as it is (the
        parser is copied before the new folder replaces the old, so saving over itself keeps it)."""
        also = copy_into(self.parser_dir, PARSER_SUBDIR) if self.parser_dir is not None else None
        return save_model(self.model, path, self.tokenizer, self.meta, also=also)

    def probabilities(self, sentences: Sequence[Sequence[str]]):
        """Class probabilities ``[len(sentences), labels]`` of word lists: parse, encode, classify."""
        heads, relations = self.parser.parse_words(sentences, progress=False)
        graphs = [build_graph(w, h, r) for w, h, r in zip(sentences, heads, relations)]
        windows = encode_sentences(
            sentences, self.tokenizer, self.pieces, max_length=self.max_length, overlap=self.window_overlap,
            source="input",
        )  # fmt: skip
        items = [(w, g, -100) for w, g in zip(windows, graphs)]
        budget = inference_batch_tokens(self.device, cpu=CPU_PARSE_BATCH_TOKENS)
        with autocast(self.device, self.dtype):
            return predict_proba(self.model, items, pad_id=self.tokenizer.pad_token_id, max_tokens=budget)
