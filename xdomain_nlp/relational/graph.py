"""Dependency graphs for relational layers: typed edges from a parse, and relation ablation.

UD relations are grouped into the types that carry opinion structure (an adjective modifying
its target, an adverb intensifying a predicate, negation, coordination). UD v2 has no ``neg``
relation: "not", "never", "no" attach as ``advmod`` or ``det``; an edge of those relations
whose dependent is a closed-class negation word is typed ``neg``, so negation can be studied
(and ablated) on its own. Every edge is used in both directions with distinct types, so a
word hears its modifiers and its head differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from xdomain_nlp.errors import InputError
from xdomain_nlp.relational.relations import RELATION_TYPES

NEGATION_WORDS = frozenset(
    {"not", "n't", "nt", "never", "no", "none", "nothing", "nobody", "neither", "nor", "without", "cannot", "hardly"}
)
_GROUPS = {
    "amod": "amod", "acl": "amod", "advmod": "advmod", "conj": "conj", "cc": "cc",
    "nsubj": "nsubj", "csubj": "nsubj", "obj": "obj", "iobj": "obj", "xcomp": "comp", "ccomp": "comp",
    "advcl": "comp", "cop": "cop", "compound": "compound", "flat": "compound", "fixed": "compound",
    "det": "det", "case": "case", "mark": "mark", "nmod": "nmod", "obl": "obl", "aux": "aux", "punct": "punct",
}  # fmt: skip


def relation_type(deprel: str, dependent: str) -> str:
    """The graph type of one UD arc (``advmod`` of "not" is ``neg``)."""
    base = deprel.split(":")[0]
    if base in ("advmod", "det", "cc") and dependent.lower() in NEGATION_WORDS:
        return "neg"
    return _GROUPS.get(base, "other")


@dataclass
class DependencyGraph:
    """Typed edges of one sentence; ``types`` index ``RELATION_TYPES`` (+ len for the reverse direction)."""

    n_words: int
    src: list[int]
    dst: list[int]
    types: list[int]

    def without(self, dropped: Sequence[str]) -> DependencyGraph:
        """The same graph with every edge (both directions) of the ``dropped`` types removed."""
        ids = {RELATION_TYPES.index(t) for t in dropped}
        ids |= {i + len(RELATION_TYPES) for i in ids}
        keep = [k for k, t in enumerate(self.types) if t not in ids]
        return DependencyGraph(
            self.n_words, [self.src[k] for k in keep], [self.dst[k] for k in keep], [self.types[k] for k in keep]
        )

    def count(self, relation: str) -> int:
        i = RELATION_TYPES.index(relation)
        return sum(t == i for t in self.types)


def build_graph(words: Sequence[str], heads: Sequence[int], deprels: Sequence[str]) -> DependencyGraph:
    """Edges head->dependent (type r) and dependent->head (type r + |types|); the root arc is left out."""
    if not len(words) == len(heads) == len(deprels):
        raise InputError(f"{len(words)} words, {len(heads)} heads and {len(deprels)} relations do not match")
    src, dst, types = [], [], []
    n = len(words)
    for d, (h, rel) in enumerate(zip(heads, deprels)):
        if not 0 <= h <= n or h == d + 1:
            raise InputError(f"word {d + 1} ({words[d]!r}): head {h} is not a word of this {n}-word sentence")
        if h == 0:
            continue
        t = RELATION_TYPES.index(relation_type(rel, words[d]))
        src += [h - 1, d]
        dst += [d, h - 1]
        types += [t, t + len(RELATION_TYPES)]
    return DependencyGraph(n, src, dst, types)


def batch_graphs(graphs: Sequence[DependencyGraph], offsets: Sequence[int]) -> dict[str, torch.Tensor]:
    """One edge list for a batch whose sentences' words start at ``offsets`` in a flat word tensor."""
    src, dst, types = [], [], []
    for g, off in zip(graphs, offsets):
        src += [s + off for s in g.src]
        dst += [d + off for d in g.dst]
        types += g.types
    return {
        "edge_src": torch.tensor(src, dtype=torch.long),
        "edge_dst": torch.tensor(dst, dtype=torch.long),
        "edge_type": torch.tensor(types, dtype=torch.long),
    }
