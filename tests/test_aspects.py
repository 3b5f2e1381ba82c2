"""Aspect term extraction: SemEval-2014 aspect spans as BIO words, the recipe, seqeval scores."""

from __future__ import annotations

import pytest
from conftest import REPO, recipe_main

from xdomain_nlp.data import CorpusFormatError, load_corpus
from xdomain_nlp.data.aspects import read_semeval_aspect_terms
from xdomain_nlp.training import span_report


def test_semeval_aspect_terms_match_the_official_counts():
    train, test = load_corpus("absa:semeval14_restaurants:train"), load_corpus("absa:semeval14_restaurants:test")
    assert (len(train), len(test)) == (3041, 800)  # every sentence, with or without aspects
    count = lambda d: sum(t == "B-ASP" for tags in d["aspect_tags"] for t in tags)  # noqa: E731
    assert (count(train), count(test)) == (3693, 1134)  # the task's published aspect term counts
    first = test[0]
    assert first["words"][:2] == ["The", "bread"] and first["aspect_tags"][:2] == ["O", "B-ASP"]
    assert "7 aspect spans widened" in train.info.description


def test_aspect_offsets_that_disagree_with_the_text_name_the_sentence(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text(
        '<sentences><sentence id="s1"><text>The pasta was great</text><aspectTerms>'
        '<aspectTerm term="pasta" polarity="positive" from="5" to="10"/></aspectTerms></sentence></sentences>'
    )
    with pytest.raises(CorpusFormatError, match=r"sentence 's1': aspect term 'pasta' at 5:10"):
        read_semeval_aspect_terms(bad)


def test_span_scores_are_exact_match():
    gold = [["B-ASP", "I-ASP", "O", "B-ASP"]]
    report = span_report(gold, [["B-ASP", "O", "O", "B-ASP"]])
    assert report["precision"] == 50 and report["recall"] == 50 and report["spans"] == 2
    with pytest.raises(ValueError, match="sentence 0: 4 gold tags but 3"):
        span_report(gold, [["O", "O", "O"]])


def test_aspect_recipe_trains_and_scores(small_encoder, tmp_path):
    main = recipe_main("aspect_terms")

    from xdomain_nlp.tagging import load_tagger

    results = main([
        "--config", str(REPO / "recipes/configs/aspect_terms_semeval14.yaml"), f"model={small_encoder}",
        f"output_dir={tmp_path}", "train_limit=96", "eval_limit=40", "epochs=2", "lr=3.0e-4",
    ])  # fmt: skip
    report = results["absa:semeval14_restaurants:test"]
    assert report["spans"] > 0 and 0 <= report["f1"] <= 100
    tagger, _, meta = load_tagger(tmp_path / "model")
    assert tagger.labels == ["O", "B-ASP", "I-ASP"] and meta["tag_set"] == "aspects"
