"""Shift diagnosis on real corpora: the known domain words and context-biased words are found."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from xdomain_nlp.shift.diagnosis import Side, diagnose, jensen_shannon, log_odds_dirichlet
from xdomain_nlp.shift.report import load_side, write_report


def test_food_vs_movie_domain_words_and_report(tmp_path):
    report = diagnose(load_side("sentiment:yelp:all"), load_side("sentiment:imdb:all"))
    food = [r["word"] for r in report["domain_words"]["source"][:15]]
    movie = [r["word"] for r in report["domain_words"]["target"][:15]]
    assert {"food", "place", "service"} <= set(food)
    assert {"movie", "film", "acting"} <= set(movie)
    first = report["domain_words"]["source"][0]
    assert first["source_count"] > 50 and first["target_count"] <= 5  # listed with its counts
    assert report["label_distribution"]["tvd"] == 0.0  # both sets are 500/500
    assert report["verdict"]["dominant"].startswith("frequency feature bias")

    out = write_report(report, tmp_path / "diag")
    assert json.loads((out / "report.json").read_text())["verdict"] == report["verdict"]
    md = (out / "report.md").read_text()
    assert "Dominant shift: frequency feature bias" in md and "| food |" in md
    for png in ("domain_words.png", "label_distribution.png", "context_words.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def test_ewt_genres_have_context_biased_words():
    source = load_side("ud:en_ewt:train[genre=email,newsgroup,weblog]")
    target = load_side("ud:en_ewt:train[genre=reviews,answers]")
    assert len(source.tokens) == 3770 + 1833 + 1585 and len(target.tokens) == 2725 + 2631
    report = diagnose(source, target, min_count=20)
    rows = {r["word"]: r for r in report["context_biased_words"]}
    # "call" is mostly a noun in emails ("conference call") and mostly a verb in answers/reviews.
    call = rows["call"]
    assert call["source_labels"]["NOUN"] > call["source_labels"]["VERB"]
    assert call["target_labels"]["VERB"] > call["target_labels"]["NOUN"]
    assert call["source_count"] >= 20 and call["target_count"] >= 20 and call["tvd"] > 0.3
    assert report["context_bias"]["words_with_tvd_over_0.3"] >= 5


def test_label_shift_is_the_verdict_when_only_labels_move():
    rows = [["good", "film"]] * 100
    source = Side("a", rows, example_labels=["positive"] * 50 + ["negative"] * 50)
    target = Side("b", rows, example_labels=["positive"] * 90 + ["negative"] * 10)
    report = diagnose(source, target, min_count=5)
    assert report["unigram_js_divergence"] == 0.0
    assert report["label_distribution"]["tvd"] == pytest.approx(0.4)
    assert report["verdict"]["dominant"] == "label shift (P(Y))"


def test_divergences():
    a, b = Counter({"x": 10, "y": 10}), Counter({"x": 10, "y": 10})
    assert jensen_shannon(a, b) == 0.0
    assert jensen_shannon(Counter({"x": 1}), Counter({"y": 1})) == pytest.approx(1.0)
    z = log_odds_dirichlet(
        Counter({"tasty": 30, "the": 500, "food": 470}), Counter({"tasty": 1, "the": 500, "film": 499})
    )
    assert z["tasty"] > 2 and abs(z["the"]) < 1 and z["film"] < -2


def test_bad_specs_are_named():
    with pytest.raises(ValueError, match="has no column 'domain'"):
        load_side("sentiment:yelp:all[domain=food]")
    with pytest.raises(ValueError, match="no example of ud:en_pud:test has genre in"):
        load_side("ud:en_pud:test[genre=email]")
    with pytest.raises(ValueError, match="example 0 has 2 tokens but 1 labels"):
        Side("s", [["a", "b"]], token_labels=[["NOUN"]])
