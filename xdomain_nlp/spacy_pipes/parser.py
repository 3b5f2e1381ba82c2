"""``xdomain_parser``: the biaffine dependency parser as a spaCy component.

It sets ``token.head`` and ``token.dep_`` (the root's relation is spaCy's ``ROOT``), which also
gives ``doc.sents`` and ``noun_chunks`` their inputs. Sentences set by an earlier component are
parsed one by one; otherwise the whole document is one tree (windows keep long ones whole).
Whitespace tokens attach to the token before them (``dep``), as spaCy's own parser does.
Prediction is `Parser`'s (windows, batches, device); this component only moves docs in and trees out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy
from spacy.attrs import DEP, HEAD
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vocab import Vocab

from xdomain_nlp.relational.parser import Parser
from xdomain_nlp.spacy_pipes.common import LazyModelComponent


@Language.factory(
    "xdomain_parser",
    default_config={
        "model": "",
        "batch_size": 256,
        "max_tokens": 0,  # 0 = by device, as `Parser` picks it
        "max_length": 256,
        "window_overlap": 64,
        "device": "auto",
        "precision": "auto",
    },
    assigns=["token.head", "token.dep", "token.is_sent_start", "doc.sents"],
    default_score_weights={"dep_uas": 0.5, "dep_las": 0.5},
)
def make_parser(
    nlp: Language,
    name: str,
    model: str,
    batch_size: int,
    max_tokens: int,
    max_length: int,
    window_overlap: int,
    device: str,
    precision: str,
) -> XDomainParser:
    """``model``: a directory written by ``recipes/parser_ewt.py`` (or a Hub repo id)."""
    return XDomainParser(
        nlp.vocab, name, model=model, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length,
        window_overlap=window_overlap, device=device, precision=precision,
    )  # fmt: skip


class XDomainParser(LazyModelComponent):
    """Parses with a saved parser; loaded on first use (see `LazyModelComponent`)."""

    factory = "xdomain_parser"

    def __init__(self, vocab: Vocab, name: str = "xdomain_parser", **settings: Any) -> None:
        super().__init__(vocab, name, **settings)

    def load(self, source: str | Path) -> None:
        self.parser = Parser.load(
            source, device=str(self.device), precision=self.precision, max_length=self.max_length,
            window_overlap=self.window_overlap, max_tokens=self.max_tokens,
        )  # fmt: skip
        self.model = self.parser.model

    @property
    def labels(self) -> tuple[str, ...]:
        return () if self.model is None else tuple(self.model.relations)

    def save_model(self, path: Path) -> None:
        self.parser.save(path)

    def set_annotations(self, docs: list[Doc]) -> None:
        units = []  # (doc index, token indices) per parsed unit
        for d, doc in enumerate(docs):
            spans = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
            units += [(d, tokens) for span in spans if (tokens := [t.i for t in span if not t.is_space])]
        words = [[docs[d][i].text for i in tokens] for d, tokens in units]
        heads, rels = self.parser.parse_words(words, batch_size=max(len(words), 1), progress=False)
        # Absolute head index and label per token, then written in one go with Doc.from_array.
        for d, doc in enumerate(docs):
            head = numpy.arange(len(doc))
            dep = ["dep"] * len(doc)
            for u, (ud, tokens) in enumerate(units):
                if ud != d:
                    continue
                for k, i in enumerate(tokens):
                    h = heads[u][k]
                    head[i] = i if h == 0 else tokens[h - 1]
                    dep[i] = "ROOT" if h == 0 else rels[u][k]
            for t in doc:
                if t.is_space:  # attach to the previous token, or the next when it opens the doc
                    head[t.i] = t.i - 1 if t.i > 0 else min(t.i + 1, len(doc) - 1)
            array = numpy.zeros((len(doc), 2), dtype="uint64")
            array[:, 0] = (head - numpy.arange(len(doc))).astype("int64").view("uint64")
            array[:, 1] = [self.vocab.strings.add(label) for label in dep]
            doc.from_array([HEAD, DEP], array)

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        """spaCy's ``dep_uas``/``dep_las`` (punctuation ignored, as spaCy scores its own parsers)."""

        def dep_getter(token, attr):
            dep = getattr(token, attr)
            return token.vocab.strings.as_string(dep).lower()

        return Scorer.score_deps(
            examples, "dep", getter=dep_getter, ignore_labels=("p", "punct"), **kwargs
        ) | Scorer.score_spans(examples, "sents", **kwargs)
