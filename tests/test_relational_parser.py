"""The biaffine parser: trees from the decoder, learning on real EWT, windows, save/load, spaCy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from xdomain_nlp.relational import chu_liu_edmonds, decode_single_root
from xdomain_nlp.relational.metrics import attachment_scores
from xdomain_nlp.relational.tree import tree_score


def _brute_force_best_tree(scores: np.ndarray) -> float:
    n = scores.shape[0]
    best = -np.inf
    for choice in itertools.product(range(n), repeat=n - 1):
        heads = np.array([-1, *choice])
        if any(heads[i] == i for i in range(1, n)) or (heads[1:] == 0).sum() != 1:
            continue
        acyclic = True
        for i in range(1, n):
            seen, x = set(), i
            while x != 0 and acyclic:
                acyclic = x not in seen
                seen.add(x)
                x = heads[x]
        if acyclic:
            best = max(best, tree_score(scores, heads))
    return best


def test_decoder_finds_the_best_single_rooted_tree():
    rng = np.random.default_rng(0)
    for _ in range(150):
        n = int(rng.integers(2, 7))
        scores = rng.normal(size=(n, n))
        heads = decode_single_root(scores)
        assert (heads[1:] == 0).sum() == 1
        assert tree_score(scores, heads) == pytest.approx(_brute_force_best_tree(scores))


def test_decoder_breaks_a_cycle_that_greedy_heads_would_make():
    scores = np.full((4, 4), -5.0)
    scores[1, 2] = scores[2, 1] = 3.0  # words 1 and 2 each prefer the other: a cycle
    scores[1, 0], scores[2, 0], scores[3, 2] = 1.0, -1.0, 2.0
    heads = chu_liu_edmonds(scores)
    assert heads.tolist() == [-1, 0, 1, 2]


def test_attachment_scores_use_universal_relations():
    scores = attachment_scores([[2, 0]], [["nsubj:pass", "root"]], [[2, 0]], [["nsubj", "root"]])
    assert scores["uas"] == 100 and scores["las"] == 100 and scores["las_full"] == 50
    with pytest.raises(ValueError, match="sentence 0"):
        attachment_scores([[2, 0]], [["a", "b"]], [[0]], [["b"]])


def test_parser_learns_real_trees(overfit_parser):
    _, scores = overfit_parser
    assert scores["uas"] > 90 and scores["las"] > 85, scores


def test_long_sentence_is_parsed_whole_through_windows(overfit_parser):
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.relational import load_parser
    from xdomain_nlp.relational.sentences import parse_words

    parser, tokenizer, meta = load_parser(overfit_parser[0])
    assert meta["task"] == "parsing" and "nsubj" in parser.relations
    corpus = load_corpus("ud:en_ewt:train").select(range(16))
    long_sentence = [w for s in corpus["words"][:6] for w in s]  # ~100 words, windows of 32 subwords
    heads, rels = parse_words(parser, tokenizer, [long_sentence, corpus["words"][0]], max_length=32, overlap=8)
    assert len(heads[0]) == len(long_sentence) == len(rels[0])
    assert sum(h == 0 for h in heads[0]) == 1
    for start in range(1, len(long_sentence) + 1):  # every word reaches the root: no cycles
        seen, node = set(), start
        while node != 0:
            assert node not in seen
            seen.add(node)
            node = heads[0][node - 1]
    # The same short sentence parses the same alone and beside a long one.
    alone, _ = parse_words(parser, tokenizer, [corpus["words"][0]], max_length=32, overlap=8)
    assert alone[0] == heads[1]


def test_relations_scored_at_chosen_heads_equal_those_of_the_full_score_table(overfit_parser):
    """Decoding scores relations only at the head each word got; they must be the scores the
    training loss reads from the full (dependent x head x relation) table."""
    import torch

    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.relational import load_parser
    from xdomain_nlp.relational.biaffine import collate_sentences, group_by_sentence
    from xdomain_nlp.tagging.data import encode_words

    parser, tokenizer, _ = load_parser(overfit_parser[0])
    words = [list(w) for w in load_corpus("ud:en_ewt:train").select(range(6))["words"]]
    grouped = group_by_sentence(encode_words(words, tokenizer, max_length=32, overlap=8))
    batch = collate_sentences([grouped[i] for i in range(len(words))], tokenizer.pad_token_id)
    args = (batch["input_ids"], batch["attention_mask"], batch["word_index"], batch["lengths"])
    with torch.inference_mode():
        _, table, _ = parser(*args)
        h, mask = parser.sentence_states(*args)
        heads = torch.randint(0, h.shape[1], h.shape[:2], generator=torch.Generator().manual_seed(0))
        at = parser.relation_scores_at(h, heads)
    b, d = torch.meshgrid(torch.arange(h.shape[0]), torch.arange(h.shape[1]), indexing="ij")
    expected = table.permute(0, 2, 3, 1)[b, d, heads]  # [B, N+1, R]
    assert at.shape == expected.shape == (len(words), h.shape[1], len(parser.relations))
    torch.testing.assert_close(at, expected, rtol=1e-4, atol=1e-4)
    assert (at.argmax(-1) == expected.argmax(-1)).float().mean() > 0.99


def test_parser_runs_as_a_spacy_component(overfit_parser, tmp_path):
    import spacy
    from spacy.tokens import Doc
    from spacy.training import Example

    from xdomain_nlp.data import load_corpus

    sentence = load_corpus("ud:en_ewt:train")[3]
    nlp = spacy.blank("en")
    nlp.add_pipe("xdomain_parser", config={"model": str(overfit_parser[0])})
    doc = nlp(Doc(nlp.vocab, words=sentence["words"]))
    gold_heads = [h - 1 if h else i for i, h in enumerate(sentence["heads"])]
    assert sum(t.head.i == g for t, g in zip(doc, gold_heads)) >= 0.9 * len(doc)
    assert [t.dep_ for t in doc if t.head.i == t.i] == ["ROOT"]
    gold = Doc(nlp.vocab, words=sentence["words"], heads=gold_heads,
               deps=[d if h else "ROOT" for d, h in zip(sentence["deprels"], sentence["heads"])])  # fmt: skip
    scores = nlp.evaluate([Example(Doc(nlp.vocab, words=sentence["words"]), gold)])
    assert scores["dep_uas"] > 0.85

    nlp.to_disk(tmp_path / "pipeline")
    again = spacy.load(tmp_path / "pipeline")
    text = "The staff was not friendly , but the pasta was excellent ."
    assert [(t.head.i, t.dep_) for t in again(text)] == [(t.head.i, t.dep_) for t in nlp(text)]

    with_sentences = spacy.blank("en")
    with_sentences.add_pipe("sentencizer")
    with_sentences.add_pipe("xdomain_parser", config={"model": str(overfit_parser[0])})
    doc = with_sentences("It was cold. We  left early!")
    assert [s.text for s in doc.sents] == ["It was cold.", "We  left early!"]
    space = doc[5]
    assert space.is_space and space.head.i == 4 and space.dep_ == "dep"
