"""Add a tag set to a trained tagger from k labelled target sentences (frozen encoder).

The steps every user of a mapping head takes, shared by ``recipes/custom_tagset.py`` and
``xdomain-nlp mapping train``: encode the k sentences once, build the prior (declared table +
corpora annotated with both tag sets + the k sentences against the tagger's own predictions),
start the head at that prior and fit it on the k sentences' words.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import datasets
import numpy as np
import torch

from xdomain_nlp.labelspace.features import WordFeatures, word_features
from xdomain_nlp.labelspace.heads import MappingHead, train_head
from xdomain_nlp.labelspace.mapping import MappingPrior, declared_matrix
from xdomain_nlp.labelspace.tagsets import TagSet


def sample_sentences(n: int, k: int, seed: int) -> list[int]:
    """k sentence indices out of n, the same for the same seed (k = -1 or k >= n: all)."""
    if k < 0 or k >= n:
        return list(range(n))
    return sorted(random.Random(seed).sample(range(n), k))


def soft_cooccurrence(source_logits: torch.Tensor, target_ids: torch.Tensor, n_target: int) -> np.ndarray:
    """Expected counts [source, target] of the tagger's source distribution against gold targets."""
    probs = source_logits.softmax(-1)
    counts = torch.zeros(probs.shape[1], n_target)
    counts.index_add_(1, target_ids, probs.T)
    return counts.numpy()


def target_ids(corpus: datasets.Dataset, target: TagSet, column: str, where: str) -> torch.Tensor:
    """Target tag ids of every word; an unknown tag names the sentence and word."""
    if column not in corpus.column_names:
        raise KeyError(f"{where}: no column {column!r} (columns: {corpus.column_names})")
    sent_ids = corpus["sent_id"] if "sent_id" in corpus.column_names else range(len(corpus))
    return torch.tensor(
        [
            target.id(t, f"{where}: {sid}, word {j + 1}")
            for sid, tags in zip(sent_ids, corpus[column])
            for j, t in enumerate(tags)
        ],
        dtype=torch.long,
    )


def fit_mapping_head(
    model,
    tokenizer,
    train: datasets.Dataset,
    source: TagSet,
    target: TagSet,
    *,
    target_column: str,
    where: str = "train",
    prior_corpora: Sequence[tuple[datasets.Dataset, str, str, str]] = (),
    declared_weight: float = 1.0,
    feature_layers: tuple[int, int] = (4, 12),
    epochs: int = 60,
    lr: float = 5e-3,
    weight_decay: float = 1e-2,
    seed: int = 0,
    autocast_dtype: torch.dtype | None = None,
    constrained: bool = False,
) -> tuple[MappingHead, MappingPrior, WordFeatures]:
    """A mapping head for ``target`` on ``model``'s frozen encoder, fitted on ``train`` (may be empty).

    ``constrained``: each source tag may only become the targets ``target.maps_from`` declares for it.
    """
    feats = word_features(model, tokenizer, train, autocast_dtype=autocast_dtype, layers=feature_layers)
    ids = target_ids(train, target, target_column, where) if len(train) else torch.zeros(0, dtype=torch.long)
    counts = np.zeros((len(source), len(target)))
    if prior_corpora or source.name in target.maps_from:
        counts += MappingPrior.estimate(source, target, prior_corpora, declared_weight=declared_weight).counts
    counts += soft_cooccurrence(feats.source_logits, ids, len(target))
    if not counts.any():
        raise ValueError(
            f"no evidence for mapping {source.name!r} to {target.name!r}: declare maps_from in the tag set, "
            "give prior corpora annotated with both, or some labelled target sentences"
        )
    prior = MappingPrior(source, target, counts)
    torch.manual_seed(seed)
    allowed = None
    if constrained:
        if source.name not in target.maps_from:
            raise ValueError(f"a constrained head needs {target.name!r} to declare maps_from {source.name!r}")
        allowed = declared_matrix(source, target) > 0
    head = MappingHead(model.hf.config.hidden_size, prior.conditional(), feature_layers=feature_layers, allowed=allowed)
    train_head(
        head, (feats.states, feats.source_logits), ids, epochs=epochs, lr=lr, weight_decay=weight_decay, seed=seed
    )
    return head, prior, feats
