"""The relational sentiment model: parses of real review sentences, batching, ablation, the recipe."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import REPO, recipe_main


def test_review_text_is_tokenised_like_ud():
    from xdomain_nlp.relational.sentences import tokenize_texts

    assert tokenize_texts(["The pasta wasn't bad, really."]) == [
        ["The", "pasta", "was", "n't", "bad", ",", "really", "."]
    ]
    with pytest.raises(ValueError, match="text 1 has no words"):
        tokenize_texts(["fine", "   "])


@pytest.fixture(scope="module")
def items(overfit_parser, small_encoder):
    import datasets

    from xdomain_nlp.encoders import load_tokenizer
    from xdomain_nlp.relational.sentences import graphs_of, parsed_corpus
    from xdomain_nlp.tagging import encode_corpus

    texts = ["The food was not good .", "Great service and a lovely terrace .", "I would never come back ."]
    parses = parsed_corpus(texts, overfit_parser[0], None)
    tokenizer = load_tokenizer(str(small_encoder))
    windows = encode_corpus(datasets.Dataset.from_dict({"words": [p["words"] for p in parses]}), tokenizer,
                            label_column=None, label2id=None)  # fmt: skip
    return tokenizer, [([w], g, label) for w, g, label in zip(windows, graphs_of(parses), [0, 1, 0])]


def test_parses_are_cached_per_text_and_parser(overfit_parser, tmp_path):
    from xdomain_nlp.relational.sentences import parsed_corpus

    first = parsed_corpus(["Tasty soup ."], overfit_parser[0], tmp_path)
    assert len(list(tmp_path.glob("parses_*.json"))) == 1
    assert parsed_corpus(["Tasty soup ."], overfit_parser[0], tmp_path) == first
    parsed_corpus(["Bland soup ."], overfit_parser[0], tmp_path)
    assert len(list(tmp_path.glob("parses_*.json"))) == 2


def test_plain_model_ignores_the_graph_and_relational_uses_it(items, small_encoder):
    from xdomain_nlp.relational.classifier import GraphSentenceClassifier, collate_graph_batch, model_inputs

    tokenizer, batch_items = items
    batch = collate_graph_batch(batch_items, tokenizer.pad_token_id)
    assert batch["n_sentences"] == 3 and batch["labels"].tolist() == [0, 1, 0]
    no_edges = collate_graph_batch([(w, g.without(["amod", "advmod", "neg", "det", "nsubj", "cop", "punct",
                                                    "conj", "cc", "obj", "comp", "compound", "case", "mark",
                                                    "nmod", "obl", "aux", "other"]), y)
                                    for w, g, y in batch_items], tokenizer.pad_token_id)  # fmt: skip
    assert no_edges["edge_src"].numel() == 0
    torch.manual_seed(0)
    for layers, should_differ in ((0, False), (2, True)):
        model = GraphSentenceClassifier.from_encoder(str(small_encoder), ["negative", "positive"], graph_layers=layers)
        model.eval()
        with torch.no_grad():
            a = model(*model_inputs(batch, "cpu"))
            b = model(*model_inputs(no_edges, "cpu"))
        assert a.shape == (3, 2)
        assert (not torch.allclose(a, b)) == should_differ


def test_edge_pooling_reads_only_the_pooled_relations(items, small_encoder, tmp_path):
    from xdomain_nlp.relational.classifier import (
        OPINION_RELATIONS,
        GraphSentenceClassifier,
        collate_graph_batch,
        load_graph_classifier,
        model_inputs,
    )

    tokenizer, batch_items = items

    def logits(model, dropped):
        batch = collate_graph_batch([(w, g.without(dropped), y) for w, g, y in batch_items], tokenizer.pad_token_id)
        with torch.no_grad():
            return model(*model_inputs(batch, "cpu"))

    torch.manual_seed(0)
    model = GraphSentenceClassifier.from_encoder(
        str(small_encoder), ["negative", "positive"], graph_layers=0, pooling="edges"
    ).eval()
    full = logits(model, [])
    # No graph layers: arcs of relations that are not pooled cannot reach the label ...
    assert torch.allclose(full, logits(model, ["punct", "det", "case"]))
    # ... and with no pooled arc left, every sentence falls back to its words.
    assert not torch.allclose(full, logits(model, list(OPINION_RELATIONS)))
    model.save(tmp_path / "m", tokenizer)
    loaded, _, meta = load_graph_classifier(tmp_path / "m")
    assert meta["pooling"] == "edges" and torch.allclose(logits(loaded, []), full)
    with pytest.raises(ValueError, match="pooling: 'arcs' is not one of words, edges"):
        GraphSentenceClassifier.from_encoder(str(small_encoder), ["a", "b"], pooling="arcs")


@pytest.mark.parametrize(("layers", "pooling"), [(0, "words"), (2, "words"), (2, "edges")])
def test_the_classifier_trains_under_bf16_autocast(items, small_encoder, layers, pooling):
    """What accelerate's bf16 does on a GPU or a bf16 CPU: scores from a Linear come out in bf16 while
    the encoder's LayerNorm gives fp32, and the pooling's sums must take both."""
    from xdomain_nlp.relational.classifier import GraphSentenceClassifier, collate_graph_batch, model_inputs

    tokenizer, batch_items = items
    inputs = model_inputs(collate_graph_batch(batch_items, tokenizer.pad_token_id), "cpu")
    torch.manual_seed(0)
    model = GraphSentenceClassifier.from_encoder(
        str(small_encoder), ["negative", "positive"], graph_layers=layers, pooling=pooling
    ).eval()
    with torch.no_grad():
        fp32 = model(*inputs)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf16 = model(*inputs)
    assert torch.allclose(bf16.float(), fp32, atol=0.05)
    bf16.float().logsumexp(-1).sum().backward()
    assert torch.isfinite(model.attention.weight.grad).all() and model.attention.weight.grad.abs().sum() > 0


def test_graph_that_does_not_match_its_sentence_is_refused(items):
    from xdomain_nlp.relational.classifier import collate_graph_batch

    tokenizer, batch_items = items
    windows, _, label = batch_items[0]
    with pytest.raises(ValueError, match="graph has 7 words but the sentence has 6"):
        collate_graph_batch([(windows, batch_items[1][1], label)], tokenizer.pad_token_id)


def test_recipe_trains_plain_and_relational_and_ablates(food_to_movie):
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.relational.classifier import load_graph_classifier

    tmp_path, summary = food_to_movie
    assert set(summary["ablation"]) == {"neg", "amod"}
    for method in ("plain", "relational"):
        for spec in ("sentiment:sst2:test", "sentiment:imdb:all"):
            assert 0 <= summary[f"{method} {spec}"]["mean"] <= 100
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["runs"]["relational/seed0"]["ablation"].keys() == {"neg", "amod"}
    plain = metrics["runs"]["plain/seed0"]  # label_shift=em keeps the unadjusted accuracy and the estimated priors
    assert plain["unadjusted"].keys() == plain["target_priors"].keys() == {"sentiment:sst2:test", "sentiment:imdb:all"}
    assert all(abs(sum(p) - 1) < 1e-3 for p in plain["target_priors"].values())
    with np.load(tmp_path / "predictions.npz") as predictions:  # the posteriors behind each unadjusted accuracy
        probs = predictions["plain seed0 sentiment:sst2:test"]
    gold = np.array(load_corpus("sentiment:sst2:test").shuffle(seed=0).select(range(24))["label"])
    assert probs.shape == (24, 2)
    assert 100.0 * (probs.argmax(1) == gold).mean() == pytest.approx(plain["unadjusted"]["sentiment:sst2:test"])
    calibration = plain["calibration"]["sentiment:sst2:test"]  # of the same posteriors
    assert sum(b["count"] for b in calibration["bins"]) == 24 and calibration["bins"][4]["count"] == 0  # p >= 0.5
    assert (tmp_path / "relation_ablation.png").stat().st_size > 0
    assert (tmp_path / "methods.png").read_bytes()[:4] == b"\x89PNG"  # accuracy by method, seeds as dots
    assert (tmp_path / "reliability_relational_sentiment_sst2_test.png").is_file()
    model, _, meta = load_graph_classifier(tmp_path / "relational" / "model")
    assert meta["graph_layers"] == 2 and len(model.layers) == 2 and meta["method"] == "relational"


def test_recipe_settings_are_checked(overfit_parser, small_encoder, tmp_path):
    main = recipe_main("sentiment_food_to_movie")
    config = ["--config", str(REPO / "recipes/configs/sentiment_food_to_movie.yaml"), f"model={small_encoder}",
              f"parser={overfit_parser[0]}", f"output_dir={tmp_path}", "train_limit=8", "eval_limit=8"]  # fmt: skip
    for setting, message in (
        ("ablate=[negation]", "'ablate' = 'negation': choose one of amod, advmod"),
        ("class_balance=maybe", "'class_balance' = 'maybe': expected true or false"),
        ("label_shift=bbse", "'label_shift' = 'bbse': choose one of none, em"),
        ("pivot_mask=1.5", "'pivot_mask' = 1.5: must be at most 1.0"),
        ("student_init=student", "'student_init' = 'student': choose one of encoder, teacher"),
    ):
        with pytest.raises(ValueError, match=message):
            main([*config, setting])


def test_label_shift_adjustment_recovers_a_balanced_target_from_a_skewed_source():
    """Posteriors of a 70%-positive source, exact for two Gaussians, on a balanced target."""
    from xdomain_nlp.shift.labelshift import label_shift_accuracy

    rng = np.random.default_rng(0)
    gold = rng.permutation(np.repeat([0, 1], 2000))
    x = rng.normal(np.where(gold == 1, 1.0, -1.0), 1.0)
    priors_trained = np.array([0.3, 0.7])
    pos_density, neg_density = np.exp(-((x - 1) ** 2) / 2), np.exp(-((x + 1) ** 2) / 2)
    positive = 0.7 * pos_density / (0.7 * pos_density + 0.3 * neg_density)
    probs = np.stack([1 - positive, positive], 1)
    adjusted, unadjusted, priors = label_shift_accuracy(probs, gold, priors_trained, "em")
    assert abs(priors[1] - 0.5) < 0.03
    assert adjusted > unadjusted + 1.0
    assert label_shift_accuracy(probs, gold, priors_trained, "none") == (unadjusted, unadjusted, [])


def test_label_shares_are_the_priors_a_model_learns_and_need_both_classes():
    from xdomain_nlp.shift.labelshift import label_shares

    items = [(None, None, label) for label in (1, 1, 1, 0)]
    assert label_shares(items).tolist() == [0.25, 0.75]
    with pytest.raises(ValueError, match="training data has no example of class 0"):
        label_shares(items[:3])
