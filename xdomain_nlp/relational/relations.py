"""The relation types of the dependency graphs, by name: what configs check their settings against.

Plain data (no torch), so that reading a recipe's config never loads the relational models.
"""

from __future__ import annotations

# UD relations grouped into the types that carry opinion structure (see `xdomain_nlp.relational.graph`).
RELATION_TYPES = (
    "amod", "advmod", "neg", "conj", "cc", "nsubj", "obj", "comp", "cop", "compound", "det", "case",
    "mark", "nmod", "obl", "aux", "punct", "other",
)  # fmt: skip
# The relations an edge-pooling classifier reads by default: how opinion words attach to their targets.
OPINION_RELATIONS = ("amod", "advmod", "neg", "conj", "nsubj", "obj", "comp", "cop", "compound")
