"""Graphs from parses: relation typing, both directions, ablation, batching, and the graph layer."""

from __future__ import annotations

import pytest
import torch

from xdomain_nlp.data import load_corpus
from xdomain_nlp.relational.graph import RELATION_TYPES, batch_graphs, build_graph, relation_type
from xdomain_nlp.relational.layers import RelationalGraphLayer


def test_negation_is_its_own_type_and_subtypes_fold():
    assert relation_type("advmod", "not") == "neg"
    assert relation_type("det", "No") == "neg"
    assert relation_type("advmod", "very") == "advmod"
    assert relation_type("nsubj:pass", "it") == "nsubj"
    assert relation_type("reparandum", "uh") == "other"


def test_graph_from_a_real_ewt_parse():
    corpus = load_corpus("ud:en_ewt:train")
    # The first EWT sentence with a negated predicate.
    row = next(r for r in corpus if "not" in [w.lower() for w in r["words"]])
    graph = build_graph(row["words"], row["heads"], row["deprels"])
    assert len(graph.src) == 2 * (len(row["words"]) - 1)  # every arc but the root's, both ways
    neg = RELATION_TYPES.index("neg")
    k = graph.types.index(neg)
    assert row["words"][graph.dst[k]].lower() == "not"  # head -> "not"
    assert graph.types[k + 1] == neg + len(RELATION_TYPES)  # and "not" -> head, reversed type

    dropped = graph.without(["neg"])
    assert dropped.count("neg") == 0 and neg + len(RELATION_TYPES) not in dropped.types
    assert len(dropped.src) == len(graph.src) - 2 * graph.count("neg")
    assert graph.count("neg") >= 1  # the original is left alone


def test_bad_parse_names_the_word():
    with pytest.raises(ValueError, match=r"word 2 \('b'\): head 5"):
        build_graph(["a", "b"], [0, 5], ["root", "dep"])
    with pytest.raises(ValueError, match="do not match"):
        build_graph(["a"], [0, 1], ["root", "x"])


def test_batched_edges_are_offset_per_sentence():
    g1 = build_graph(["good", "food"], [2, 0], ["amod", "root"])
    g2 = build_graph(["not", "bad"], [2, 0], ["advmod", "root"])
    edges = batch_graphs([g1, g2], [0, 2])
    assert edges["edge_src"].tolist() == [1, 0, 3, 2]
    assert edges["edge_type"].tolist()[2] == RELATION_TYPES.index("neg")


def test_graph_layer_uses_edges_and_passes_through_without_them():
    torch.manual_seed(0)
    layer = RelationalGraphLayer(16, 2 * len(RELATION_TYPES), num_bases=4).eval()
    h = torch.randn(4, 16)
    empty = torch.empty(0, dtype=torch.long)
    no_edges = layer(h, empty, empty, empty)
    amod = RELATION_TYPES.index("amod")
    one_edge = layer(h, torch.tensor([1]), torch.tensor([0]), torch.tensor([amod]))
    assert not torch.allclose(one_edge[0], no_edges[0])  # word 0 heard word 1
    assert torch.allclose(one_edge[1:], no_edges[1:])  # nobody else did
    other_type = layer(h, torch.tensor([1]), torch.tensor([0]), torch.tensor([amod + 1]))
    assert not torch.allclose(other_type[0], one_edge[0])  # the relation type matters
