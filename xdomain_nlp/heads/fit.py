"""Add a tag set to a trained tagger from k labelled target sentences (frozen encoder).

The steps every user of a mapping head takes, shared by ``recipes/custom_tagset.py`` and
``xdomain-nlp mapping train``: encode the k sentences once, build the prior (declared table +
corpora annotated with both tag sets + the k sentences against the tagger's own predictions),
start the head at that prior and fit it on the k sentences' words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import datasets
import numpy as np
import torch

from xdomain_nlp.devices import model_device
from xdomain_nlp.errors import InputError, UnknownNameError
from xdomain_nlp.heads.features import WordFeatures, word_features
from xdomain_nlp.heads.train import train_head
from xdomain_nlp.labelspace import (
    NO_COUNTERPART,
    PROJECTED_COLUMN,
    ConventionRule,
    MappingHead,
    MappingPrior,
    TagSet,
    convention_tag_set,
    declared_matrix,
    parse_rules,
    relabel,
    sample_sentences,
)


def soft_cooccurrence(source_logits: torch.Tensor, target_ids: torch.Tensor, n_target: int) -> np.ndarray:
    """Expected counts [source, target] of the tagger's source distribution against gold targets."""
    probs = source_logits.softmax(-1)
    counts = torch.zeros(probs.shape[1], n_target)
    counts.index_add_(1, target_ids, probs.T)
    return counts.numpy()


def target_ids(
    corpus: datasets.Dataset, target: TagSet, column: str, where: str, *, skip: str | None = None
) -> torch.Tensor:
    """Target tag ids of every word (``skip`` tags: -1); an unknown tag names the sentence and word."""
    if column not in corpus.column_names:
        raise UnknownNameError(f"{where}: no column {column!r} (columns: {corpus.column_names})")
    sent_ids = corpus["sent_id"] if "sent_id" in corpus.column_names else range(len(corpus))
    return torch.tensor(
        [
            -1 if t == skip else target.id(t, f"{where}: {sid}, word {j + 1}")
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
    projected: datasets.Dataset | None = None,
    projected_share: float = 1.0,
    projected_epochs: int = 20,
) -> tuple[MappingHead, MappingPrior, WordFeatures]:
    """A mapping head for ``target`` on ``model``'s frozen encoder, fitted on ``train`` (may be empty).

    ``constrained``: each source tag may only become the targets ``target.maps_from`` declares for it.
    ``projected``: source-language sentences with a ``projected`` column of target tags (see
    `Projection.apply`), trained on together with ``train`` for ``projected_epochs``; all their
    words together weigh ``projected_share`` times the target words (or one word's worth at k = 0).
    """
    feats = word_features(model, tokenizer, train, autocast_dtype=autocast_dtype, layers=feature_layers)
    ids = target_ids(train, target, target_column, where) if len(train) else torch.zeros(0, dtype=torch.long)
    base = np.zeros((len(source), len(target)))
    if prior_corpora or source.name in target.maps_from:
        base += MappingPrior.estimate(source, target, prior_corpora, declared_weight=declared_weight).counts
    extra = None
    if projected is not None and len(projected):
        words = word_features(model, tokenizer, projected, autocast_dtype=autocast_dtype, layers=feature_layers)
        extra_ids = target_ids(projected, target, PROJECTED_COLUMN, "projected source", skip=NO_COUNTERPART)
        extra = (words.states, words.source_logits, extra_ids)
    allowed = None
    if constrained:
        if source.name not in target.maps_from:
            raise InputError(f"a constrained head needs {target.name!r} to declare maps_from {source.name!r}")
        allowed = declared_matrix(source, target) > 0
    head, prior = fit_head_on_features(
        source,
        target,
        (feats.states, feats.source_logits, ids),
        base_counts=base,
        projected=extra,
        projected_share=projected_share,
        epochs=projected_epochs if extra is not None else epochs,
        lr=lr,
        weight_decay=weight_decay,
        seed=seed,
        feature_layers=feature_layers,
        allowed=allowed,
        device=model_device(model),
    )
    return head, prior, feats


def fit_head_on_features(
    source: TagSet,
    target: TagSet,
    words: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    *,
    base_counts: np.ndarray,
    projected: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    projected_share: float = 1.0,
    epochs: int = 60,
    lr: float = 5e-3,
    weight_decay: float = 1e-2,
    seed: int = 0,
    feature_layers: tuple[int, int] = (4, 12),
    allowed: np.ndarray | None = None,
    finish_epochs: int = 20,
    finish_lr: float = 1e-3,
    device: torch.device | str = "cpu",  # the CPU is meant: benchmarks fit many heads on host features
) -> tuple[MappingHead, MappingPrior]:
    """`fit_mapping_head` on precomputed (states, source logits, target ids) of the target words
    and optionally of projected source words (ids -1 = left out): benchmarks fit many heads on
    slices of one encoding. The prior is ``base_counts`` plus both soft co-occurrences.

    With projected words the head trains on both for ``epochs``, then ``finish_epochs`` on the
    target words alone at ``finish_lr``: where projected and target annotation disagree, the
    target has the last word (on German STTS it helps at k = 100 and is neutral at k = 10).
    ``device``: where the head trains (the features stay where they are)."""
    states, source_logits, ids = words
    counts = base_counts + soft_cooccurrence(source_logits, ids, len(target))
    weights = None
    if projected is not None:
        keep = projected[2] >= 0
        n_projected = int(keep.sum())
        weight = projected_share * max(len(ids), 1) / max(n_projected, 1)
        counts = counts + weight * soft_cooccurrence(projected[1][keep], projected[2][keep], len(target))
        states = torch.cat([states, projected[0][keep]])
        source_logits = torch.cat([source_logits, projected[1][keep]])
        ids = torch.cat([ids, projected[2][keep]])
        weights = torch.cat([torch.ones(len(words[2])), torch.full((n_projected,), weight)])
    if not counts.any():
        raise InputError(
            f"no evidence for mapping {source.name!r} to {target.name!r}: declare maps_from in the tag set, "
            "give prior corpora annotated with both, a projection, or some labelled target sentences"
        )
    prior = MappingPrior(source, target, counts)
    torch.manual_seed(seed)
    head = MappingHead(states.shape[1], prior.conditional(), feature_layers=feature_layers, allowed=allowed)
    train_head(
        head, (states, source_logits), ids, epochs=epochs, lr=lr, weight_decay=weight_decay, seed=seed,
        weights=weights, device=device,
    )  # fmt: skip
    if projected is not None and len(words[2]):
        train_head(
            head, words[:2], words[2], epochs=finish_epochs, lr=finish_lr, weight_decay=weight_decay, seed=seed,
            device=device,
        )  # fmt: skip
    return head, prior


def fit_convention_head(
    model,
    tokenizer,
    corpus: datasets.Dataset,
    name: str,
    rules: Sequence[str | ConventionRule],
    *,
    sentences: int = 2000,
    seed: int = 0,
    autocast_dtype=None,
) -> tuple[TagSet, Counter]:
    """Add tag set ``name`` (``model``'s own tags under ``rules``) to ``model``, learned from
    ``sentences`` of its source-annotated ``corpus`` relabelled by the rules."""
    source = TagSet(model.source_tag_set, list(model.labels))
    parsed = parse_rules(rules, source.tags)
    target = convention_tag_set(name, source, parsed)
    corpus = corpus.select(sample_sentences(len(corpus), sentences, seed))
    corpus, changed = relabel(corpus, parsed, column=model.source_tag_set)
    silent = [rule for rule, n in changed.items() if n == 0]
    if silent:
        raise InputError(f"convention {name!r}: rules {silent} match no word of the {len(corpus)} sentences")
    head, _, _ = fit_mapping_head(
        model,
        tokenizer,
        corpus,
        source,
        target,
        target_column="convention",
        where=f"convention {name!r}",
        seed=seed,
        autocast_dtype=autocast_dtype,
        constrained=True,
    )
    model.add_mapping_head(target, head)
    return target, changed
