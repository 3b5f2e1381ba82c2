"""`load`: any model the package saved, from a folder or the Hub, as the object for its task."""

from __future__ import annotations

import os
from typing import Any

from xdomain_nlp.classification import SentimentClassifier
from xdomain_nlp.modeldir import resolve
from xdomain_nlp.relational.parser import Parser
from xdomain_nlp.tagging.tagger import Tagger


def load(path_or_hub_id: str | os.PathLike, **settings: Any) -> Tagger | Parser | SentimentClassifier:
    """A `Tagger`, `Parser` or `SentimentClassifier`, by the task in the model's ``xdomain.json``.

    ``settings`` go to the class's ``load``: ``device`` ("auto", "cpu", "cuda:0") and ``precision``
    ("auto": bf16 where the device runs it natively; "fp32") for every kind, ``torch_compile`` for a
    tagger, ``parser`` for a sentiment model whose parser is elsewhere.

    Example (``tagger_dir``: a folder the POS recipe saved; a Hub id works the same)::

        >>> import xdomain_nlp
        >>> tagger = xdomain_nlp.load(tagger_dir)  # on the GPU when there is one
        >>> tagged = tagger.predict("Der Arzt überwacht den Patienten.")
        >>> tagged["words"]
        ['Der', 'Arzt', 'überwacht', 'den', 'Patienten', '.']
        >>> len(tagged["tags"]) == len(tagged["probabilities"]) == 6
        True
    """
    path, meta = resolve(path_or_hub_id)  # once: the folder and its xdomain.json go down as they are
    kind = {"tagging": Tagger, "parsing": Parser, "graph-classification": SentimentClassifier}[meta["task"]]
    return kind.load(path, meta=meta, **settings)
