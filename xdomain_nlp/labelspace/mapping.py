"""How two tag sets relate: co-occurrence counts, declared tables, and what is unreachable.

The prior P(target | source) says, for a word the source tagger calls NOUN, how likely each
target tag is (STTS NN 0.98, NE 0.01, ...). It comes from a corpus annotated with both tag
sets (EWT: UPOS x PTB; GSD: UPOS x STTS), from a table the user declares, or from both. Target
tags no source tag leads to are *unreachable*: only target examples can teach them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import datasets
import numpy as np

from xdomain_nlp.errors import InputError, UnknownNameError
from xdomain_nlp.labelspace.tagsets import TagSet


def cooccurrence(
    corpus: datasets.Dataset,
    source: TagSet,
    target: TagSet,
    *,
    source_column: str,
    target_column: str,
    where: str = "corpus",
) -> np.ndarray:
    """Counts ``[s, t]`` of words tagged ``s`` in ``source_column`` and ``t`` in ``target_column``."""
    counts = np.zeros((len(source), len(target)), dtype=np.int64)
    sent_ids = corpus["sent_id"] if "sent_id" in corpus.column_names else None
    for i, (src_tags, tgt_tags) in enumerate(zip(corpus[source_column], corpus[target_column])):
        label = f"{where}: {sent_ids[i] if sent_ids else f'sentence {i}'}"
        for j, (s, t) in enumerate(zip(src_tags, tgt_tags)):
            counts[source.id(s, f"{label}, word {j + 1}"), target.id(t, f"{label}, word {j + 1}")] += 1
    return counts


def declared_matrix(source: TagSet, target: TagSet) -> np.ndarray:
    """Matrix ``[s, t]`` from the target set's declared ``maps_from[source.name]`` table: 1 per
    declared pair, 2 for the declared default reading of ``s`` (``defaults_from``), else 0."""
    table = target.maps_from.get(source.name)
    if table is None:
        raise UnknownNameError(f"tag set {target.name!r} declares no mapping from {source.name!r}")
    matrix = np.zeros((len(source), len(target)), dtype=np.int64)
    for t, sources in table.items():
        for s in sources:
            matrix[source.id(s, f"{target.name} maps_from.{source.name}.{t}"), target.index[t]] = 1
    for s, t in target.defaults_from.get(source.name, {}).items():
        matrix[source.id(s, f"{target.name} defaults_from.{source.name}"), target.index[t]] = 2
    return matrix


@dataclass
class MappingPrior:
    """Evidence for P(target tag | source tag), as a count matrix ``[source, target]``."""

    source: TagSet
    target: TagSet
    counts: np.ndarray

    def __post_init__(self) -> None:
        expected = (len(self.source), len(self.target))
        if self.counts.shape != expected:
            raise InputError(f"counts have shape {self.counts.shape}, expected {expected}")

    @classmethod
    def estimate(
        cls,
        source: TagSet,
        target: TagSet,
        corpora: Sequence[tuple[datasets.Dataset, str, str, str]] = (),
        *,
        declared_weight: float = 1.0,
    ) -> MappingPrior:
        """Sum co-occurrences over ``(corpus, source_column, target_column, name)`` and, when the
        target set declares a mapping from the source, ``declared_weight`` pseudo-counts per pair."""
        counts = np.zeros((len(source), len(target)), dtype=np.float64)
        for corpus, src_col, tgt_col, name in corpora:
            counts += cooccurrence(corpus, source, target, source_column=src_col, target_column=tgt_col, where=name)
        if source.name in target.maps_from:
            counts += declared_weight * declared_matrix(source, target)
        if not counts.any():
            raise InputError(
                f"no evidence for a mapping from {source.name!r} to {target.name!r}: give a corpus "
                "annotated with both, or declare maps_from in the target tag set"
            )
        return cls(source, target, counts)

    def conditional(self, smoothing: float = 0.0) -> np.ndarray:
        """P(t | s), rows summing to one; a source tag never seen spreads uniformly."""
        counts = self.counts + smoothing
        totals = counts.sum(axis=1, keepdims=True)
        uniform = np.full_like(counts, 1.0 / counts.shape[1])
        return np.where(totals > 0, counts / np.where(totals > 0, totals, 1), uniform)

    def unreachable(self) -> list[str]:
        """Target tags that no source tag leads to."""
        return [t for j, t in enumerate(self.target.tags) if not self.counts[:, j].any()]

    def top_pairs(self, k: int = 3) -> dict[str, list[tuple[str, float]]]:
        """For each source tag, its ``k`` most likely target tags with their probabilities."""
        cond = self.conditional()
        out = {}
        for i, s in enumerate(self.source.tags):
            if self.counts[i].any():
                order = np.argsort(-cond[i])[:k]
                out[s] = [(self.target.tags[j], round(float(cond[i, j]), 4)) for j in order if cond[i, j] > 0]
        return out

    def to_dict(self) -> dict:
        return {"source": self.source.to_dict(), "target": self.target.to_dict(), "counts": self.counts.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> MappingPrior:
        return cls(TagSet.from_dict(data["source"]), TagSet.from_dict(data["target"]), np.asarray(data["counts"]))
