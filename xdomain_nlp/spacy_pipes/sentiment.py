"""``xdomain_sentiment``: a sentence/document classifier as a spaCy component that sets ``doc.cats``.

The model is one of the package's own sentiment models (the Food -> Movie recipe's, plain or
relational: the doc's words are parsed with the model's parser, which is saved inside the
pipeline) or any ``*ForSequenceClassification`` directory or Hub id (labels from its
``id2label``). For the latter, subwords come from the document's own text; a document longer than
the encoder's window is read in overlapping windows cut at spaCy token boundaries, and the class
probabilities of the windows are averaged, weighted by the tokens each window owns.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vocab import Vocab
from transformers import AutoModelForSequenceClassification

from xdomain_nlp.classification.sentiment import PARSER_SUBDIR, SentimentClassifier
from xdomain_nlp.devices import CPU, autocast, to_device
from xdomain_nlp.encoders.resolve import fast_tokenizer
from xdomain_nlp.modeldir import XDOMAIN_FILE, local_model_dir
from xdomain_nlp.spacy_pipes.common import LazyModelComponent
from xdomain_nlp.tagging.alignment import plan_windows
from xdomain_nlp.tagging.predict import token_budget_batches


@Language.factory(
    "xdomain_sentiment",
    default_config={
        "model": "",
        "parser": "",
        "batch_size": 64,
        "max_tokens": 16384,
        "max_length": 256,
        "window_overlap": 32,
        "device": "auto",
        "precision": "auto",
    },
    assigns=["doc.cats"],
    default_score_weights={"cats_macro_f": 1.0},
)
def make_sentiment(
    nlp: Language,
    name: str,
    model: str,
    parser: str,
    batch_size: int,
    max_tokens: int,
    max_length: int,
    window_overlap: int,
    device: str,
    precision: str,
) -> XDomainSentiment:
    """``model``: the package's sentiment model or a sequence-classification directory or Hub repo id;
    ``parser``: the parser a package model needs when it is not where the model's config says."""
    return XDomainSentiment(
        nlp.vocab,
        name,
        model=model,
        parser=parser,
        batch_size=batch_size,
        max_tokens=max_tokens,
        max_length=max_length,
        window_overlap=window_overlap,
        device=device,
        precision=precision,
    )


def token_groups(doc: Doc, offsets: list[tuple[int, int]]) -> list[int]:
    """How many consecutive subwords fall in each spaCy token (subwords between tokens join the next)."""
    starts = [t.idx for t in doc]
    text = doc.text
    owner = []
    for begin, _ in offsets:
        while begin < len(text) and text[begin].isspace():
            begin += 1
        owner.append(max(0, bisect_right(starts, begin) - 1))
    sizes: list[int] = []
    previous = None
    for o in owner:
        if o == previous:
            sizes[-1] += 1
        else:
            sizes.append(1)
        previous = o
    return sizes


class XDomainSentiment(LazyModelComponent):
    """Classifies documents with a saved classifier; loaded on first use (see `LazyModelComponent`)."""

    factory = "xdomain_sentiment"

    def __init__(
        self,
        vocab: Vocab,
        name: str = "xdomain_sentiment",
        *,
        model: str,
        parser: str = "",
        batch_size: int = 64,
        max_tokens: int = 16384,
        max_length: int = 256,
        window_overlap: int = 32,
        device: str = "auto",
        precision: str = "auto",
    ) -> None:
        self.parser_name = parser
        self.classifier: SentimentClassifier | None = None
        super().__init__(
            vocab,
            name,
            model=model,
            batch_size=batch_size,
            max_tokens=max_tokens,
            max_length=max_length,
            window_overlap=window_overlap,
            device=device,
            precision=precision,
        )

    def load(self, source: str | Path) -> None:
        path = local_model_dir(source)
        if (path / XDOMAIN_FILE).is_file():  # the package's own model: parse, then classify
            parser = self.parser_name or None
            if (path / PARSER_SUBDIR / XDOMAIN_FILE).is_file():
                parser = None  # the copy saved with the pipeline
            self.classifier = SentimentClassifier.load(
                path, parser=parser, device=str(self.device), precision=self.precision
            )
            self.model, self.tokenizer, self.label_names = self.classifier.model, None, self.classifier.labels
            return
        self.model = AutoModelForSequenceClassification.from_pretrained(path).to(self.device).eval()
        self.tokenizer = fast_tokenizer(path, str(source))
        self.label_names = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]

    @property
    def labels(self) -> tuple[str, ...]:
        """Empty until the model is loaded (spaCy reads labels for its meta before ``from_disk``)."""
        if self.model is None:
            return ()
        return tuple(self.label_names)

    def save_model(self, path: Path) -> None:
        if self.classifier is not None:
            self.classifier.save(path)
            return
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)

    @torch.inference_mode()
    def set_annotations(self, docs: list[Doc]) -> None:
        """``doc.cats`` from the classifier; a doc with no text (empty or whitespace) gets no cats: with
        no word there is no opinion to report, and a made-up 50/50 would read as one."""
        for doc in docs:
            if not doc.text.strip():
                doc.cats = {}
        docs = [doc for doc in docs if doc.text.strip()]
        if not docs:
            return
        if self.classifier is not None:
            probs = self.classifier.probabilities([[t.text for t in doc if not t.is_space] for doc in docs])
            for doc, p in zip(docs, probs.tolist()):
                doc.cats = dict(zip(self.label_names, p))
            return
        tok = self.tokenizer
        enc = tok([d.text for d in docs], add_special_tokens=False, return_offsets_mapping=True)
        budget = self.max_length - 2
        windows: list[tuple[int, list[int], int]] = []  # (doc, input ids, tokens owned)
        for d, doc in enumerate(docs):
            ids = enc["input_ids"][d]
            sizes = token_groups(doc, enc["offset_mapping"][d]) if ids else [0]
            starts = [0]
            for s in sizes:
                starts.append(starts[-1] + s)
            for w in plan_windows(sizes, budget, min(self.window_overlap, budget - 1)):
                piece_ids = ids[starts[w.start] : starts[w.end]][:budget]
                windows.append((d, [tok.cls_token_id, *piece_ids, tok.sep_token_id], w.own_end - w.own_start))
        probs = torch.zeros(len(docs), len(self.label_names))
        weight = torch.zeros(len(docs))
        for batch in token_budget_batches([len(w[1]) for w in windows], self.max_tokens):
            length = max(len(windows[i][1]) for i in batch)
            ids = torch.full((len(batch), length), tok.pad_token_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for b, i in enumerate(batch):
                ids[b, : len(windows[i][1])] = torch.tensor(windows[i][1])
                mask[b, : len(windows[i][1])] = 1
            with autocast(self.device, self.dtype):
                logits = self.model(**to_device({"input_ids": ids, "attention_mask": mask}, self.device)).logits
            p = logits.float().softmax(-1).to(CPU)
            for b, i in enumerate(batch):
                d, _, owned = windows[i]
                probs[d] += owned * p[b]
                weight[d] += owned
        probs /= weight.clamp(min=1e-9).unsqueeze(-1)
        for d, doc in enumerate(docs):
            doc.cats = {label: float(probs[d, k]) for k, label in enumerate(self.label_names)}

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        return Scorer.score_cats(examples, "cats", labels=self.labels, multi_label=False, **kwargs)
