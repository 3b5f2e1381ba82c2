"""``xdomain_tagger``: a transferred tagger as a spaCy component.

It sets ``token.pos_`` from a UPOS tagger and, with ``tag_set`` naming one of the model's mapping
heads (or with a tagger whose own labels are not UPOS), ``token.tag_``; a ``tag_set`` made of UPOS
tags (a target treebank's conventions, e.g. ``ud_de``) fills ``token.pos_`` instead; the probability of each
assigned tag is in ``token._.xdomain_scores``. Tokens are spaCy's own; whitespace tokens get
``SPACE``. Sentences (when a component before this one set them) or whole documents are cut
into windows on token boundaries, so a long document is tagged to its last token. Prediction is
`Tagger`'s (windows, batches, device, precision); this component only moves docs in and tags out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc, Token
from spacy.training import Example
from spacy.vocab import Vocab

from xdomain_nlp.errors import InputError
from xdomain_nlp.spacy_pipes.common import LazyModelComponent
from xdomain_nlp.tagging.data import UPOS
from xdomain_nlp.tagging.tagger import Tagger

SCORES = "xdomain_scores"

if not Token.has_extension(SCORES):
    Token.set_extension(SCORES, default=None)


@Language.factory(
    "xdomain_tagger",
    default_config={
        "model": "",
        "tag_set": None,
        "batch_size": 256,
        "max_tokens": 16384,
        "max_length": 256,
        "window_overlap": 64,
        "device": "auto",
        "precision": "auto",
        "torch_compile": False,
    },
    assigns=["token.pos", "token.tag", f"token._.{SCORES}"],
    default_score_weights={"pos_acc": 0.5, "tag_acc": 0.5},
)
def make_tagger(
    nlp: Language,
    name: str,
    model: str,
    tag_set: str | None,
    batch_size: int,
    max_tokens: int,
    max_length: int,
    window_overlap: int,
    device: str,
    precision: str,
    torch_compile: bool,
) -> XDomainTagger:
    """``model``: a saved tagger directory or Hub repo id; ``tag_set``: a mapping head to fill ``tag_``;
    ``torch_compile``: compile the model on first use (pays off on large inputs, see `Tagger`)."""
    return XDomainTagger(
        nlp.vocab,
        name,
        model=model,
        tag_set=tag_set,
        batch_size=batch_size,
        max_tokens=max_tokens,
        max_length=max_length,
        window_overlap=window_overlap,
        device=device,
        precision=precision,
        torch_compile=torch_compile,
    )


class XDomainTagger(LazyModelComponent):
    """Tags with a saved tagger; the model is loaded on first use (see `LazyModelComponent`)."""

    factory = "xdomain_tagger"

    def __init__(
        self,
        vocab: Vocab,
        name: str = "xdomain_tagger",
        *,
        model: str,
        tag_set: str | None = None,
        batch_size: int = 256,
        max_tokens: int = 16384,
        max_length: int = 256,
        window_overlap: int = 64,
        device: str = "auto",
        precision: str = "auto",
        torch_compile: bool = False,
    ) -> None:
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
        self.tag_set = tag_set
        self.torch_compile = torch_compile

    def load(self, source: str | Path) -> None:
        self.tagger = Tagger.load(
            source, device=str(self.device), precision=self.precision, torch_compile=self.torch_compile,
            max_length=self.max_length, window_overlap=self.window_overlap, max_tokens=self.max_tokens,
        )  # fmt: skip
        self.model = self.tagger.model
        # Which labels go where: UPOS labels to token.pos, other tag sets to token.tag.
        source_is_upos = self.tagger.labels() == list(UPOS)
        if self.tag_set is not None and self.tag_set not in self.tagger.tag_sets:
            raise InputError(
                f"{self.name}: tag_set {self.tag_set!r} is not served by {source}; it has {self.tagger.tag_sets}"
            )
        mapped = self.tag_set is not None and self.tag_set != self.model.source_tag_set
        convention = mapped and set(self.tagger.labels(self.tag_set)) <= set(UPOS)
        self.outputs: list[tuple[str, str | None]] = []  # (token attribute, tag set)
        if source_is_upos:
            self.outputs.append(("pos", self.tag_set if convention else None))
        if mapped and not convention:
            self.outputs.append(("tag", self.tag_set))
        elif not source_is_upos:
            self.outputs.append(("tag", None))
        self.label_lists = [self.tagger.labels(t) for _, t in self.outputs]

    @property
    def labels(self) -> tuple[str, ...]:
        """Empty until the model is loaded (spaCy reads labels for its meta before ``from_disk``)."""
        if self.model is None:
            return ()
        return tuple(label for labels in self.label_lists for label in labels)

    def save_model(self, path: Path) -> None:
        self.tagger.save(path)

    def set_annotations(self, docs: list[Doc]) -> None:
        """Tag a batch of docs: every sentence of every doc in one `Tagger.tag_words_in` call."""
        units = []  # (doc index, token indices) per encoder sequence
        for d, doc in enumerate(docs):
            spans = doc.sents if doc.has_annotation("SENT_START") else [doc[:]]
            units += [(d, tokens) for span in spans if (tokens := [t.i for t in span if not t.is_space])]
        words = [[docs[d][i].text for i in tokens] for d, tokens in units]
        results = self.tagger.tag_words_in(words, [t for _, t in self.outputs])
        for doc in docs:
            for token in doc:
                if token.is_space:
                    token.pos_ = "SPACE"
                    token.tag_ = "_SP"
        for u, (d, tokens) in enumerate(units):
            doc = docs[d]
            for k, i in enumerate(tokens):
                scores = {}
                for (attr, _), (tags, probs) in zip(self.outputs, results):
                    setattr(doc[i], attr + "_", tags[u][k])
                    scores[attr] = probs[u][k]
                doc[i]._.set(SCORES, scores)

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        """``pos_acc`` / ``tag_acc`` (spaCy's token-attribute accuracy) for what this component sets."""
        examples = list(examples)
        scores: dict[str, Any] = {}
        for attr, _ in self.outputs if self.model is not None else [("pos", None), ("tag", None)]:
            scores.update(Scorer.score_token_attr(examples, attr, **kwargs))
        return scores
