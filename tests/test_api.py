"""`xdomain_nlp.load(...).predict(...)`: one object per model kind, the same answers as the CLI."""

from __future__ import annotations

import json

import pytest

import xdomain_nlp
from xdomain_nlp.cli import main as cli
from xdomain_nlp.data import load_corpus


def test_a_tagger_loads_as_a_tagger_and_tags_texts_and_word_lists(tiny_tagger):
    tagger = xdomain_nlp.load(tiny_tagger, device="cpu", precision="fp32")
    assert isinstance(tagger, xdomain_nlp.Tagger) and tagger.tag_sets == ["upos"]
    config = tagger.meta["config"]
    assert (tagger.max_length, tagger.window_overlap) == (config["max_length"], config["window_overlap"]) == (64, 16)
    one = tagger.predict("The soup was tasty.", lang="en")
    assert one["words"] == ["The", "soup", "was", "tasty", "."] and len(one["tags"]) == len(one["probabilities"]) == 5
    many = tagger.predict(["The soup was tasty.", "", ["It", "was", "fine"]], lang="en")
    assert [r["words"] for r in many] == [one["words"], [], ["It", "was", "fine"]]
    assert many[0]["tags"] == one["tags"] and many[0]["probabilities"] == pytest.approx(one["probabilities"])
    assert many[1] == {"words": [], "tags": [], "probabilities": []}  # an empty text: nothing to tag
    assert all(t in tagger.labels() for r in many for t in r["tags"])
    with pytest.raises(ValueError, match=r"no tag set 'stts'; this model has \['upos'\]"):
        tagger.predict("x", tag_set="stts")
    with pytest.raises(TypeError, match="a text, a list of texts, or a list of word lists; item 1 is int"):
        tagger.predict(["fine", 2])
    with pytest.raises(TypeError, match="item 0 is list with an empty or non-text word"):
        tagger.predict([["a", ""]])


def test_predict_and_the_cli_agree_on_a_treebank(tiny_tagger, capsys):
    """The same words, windows and precision: evaluate's accuracy from predict's tags, to the word."""
    gsd = load_corpus("ud:de_gsd:test").select(range(120))
    tagger = xdomain_nlp.load(tiny_tagger, device="cpu", precision="fp32")
    results = tagger.predict([list(w) for w in gsd["words"]], batch_size=50)  # three batches
    right = sum(p == g for r, gold in zip(results, gsd["upos"]) for p, g in zip(r["tags"], gold))
    words = sum(len(w) for w in gsd["words"])
    report = tagger.evaluate(gsd)
    assert report["words"] == words and report["accuracy"] == pytest.approx(100.0 * right / words)
    assert cli(["evaluate", str(tiny_tagger), "ud:de_gsd:test", "--precision", "fp32"]) == 0
    whole = json.loads(capsys.readouterr().out)
    assert whole["accuracy"] == round(xdomain_nlp.load(tiny_tagger, precision="fp32").evaluate(
        load_corpus("ud:de_gsd:test"))["accuracy"], 2)  # fmt: skip


def test_a_compiled_tagger_tags_as_the_eager_one(tiny_tagger):
    """``torch_compile=True`` (compiled on first use, shapes dynamic) changes speed, not answers,
    over sentences of different lengths and a window split."""
    sentences = [list(w) for w in load_corpus("ud:en_ewt:test").select(range(40))["words"]]
    sentences.append(["word"] * 150)  # longer than the 64-piece window: several windows
    eager = xdomain_nlp.load(tiny_tagger, device="cpu", precision="fp32").predict(sentences)
    compiled = xdomain_nlp.load(tiny_tagger, device="cpu", precision="fp32", torch_compile=True)
    assert hasattr(compiled.model, "_compiled_call_impl") and compiled.model._compiled_call_impl is not None
    again = compiled.predict(sentences)
    assert [r["tags"] for r in again] == [r["tags"] for r in eager]
    for a, e in zip(again, eager):
        assert a["probabilities"] == pytest.approx(e["probabilities"], abs=1e-4)


def test_a_parser_loads_as_a_parser(overfit_parser):
    from xdomain_nlp.relational.biaffine import load_parser
    from xdomain_nlp.relational.sentences import parse_words

    parser = xdomain_nlp.load(overfit_parser[0], device="cpu", precision="fp32")  # as the recipe scores
    assert isinstance(parser, xdomain_nlp.Parser) and "nsubj" in parser.relations
    ewt = load_corpus("ud:en_ewt:train").select(range(4))
    got = parser.predict([list(w) for w in ewt["words"]])
    model, tokenizer, _ = load_parser(overfit_parser[0])
    heads, relations = parse_words(model, tokenizer, [list(w) for w in ewt["words"]])
    assert [r["heads"] for r in got] == heads and [r["relations"] for r in got] == relations
    assert sum(h == 0 for h in got[0]["heads"]) == 1  # one root a sentence
    assert parser.predict("") == {"words": [], "heads": [], "relations": []}


def test_a_parser_parses_in_the_precision_asked_for_and_so_does_its_spacy_component(overfit_parser):
    import spacy
    import torch

    from xdomain_nlp.devices import CPU_PARSE_BATCH_TOKENS

    words = [list(w) for w in load_corpus("ud:en_ewt:train").select(range(8))["words"]]
    fp32 = xdomain_nlp.load(overfit_parser[0], device="cpu", precision="fp32")
    bf16 = xdomain_nlp.load(overfit_parser[0], device="cpu", precision="bf16")
    assert fp32.dtype is None and bf16.dtype == torch.bfloat16
    a, b = fp32.predict(words), bf16.predict(words)
    same = sum(x == y for p, q in zip(a, b) for x, y in zip(p["heads"], q["heads"]))
    assert same >= 0.95 * sum(map(len, words))  # bf16 keeps the trees of a confident parser
    nlp = spacy.blank("en")
    nlp.add_pipe("xdomain_parser", config={"model": str(overfit_parser[0]), "device": "cpu", "precision": "bf16"})
    nlp("The soup was tasty .")
    component = nlp.get_pipe("xdomain_parser").parser
    assert component.dtype == torch.bfloat16  # the setting reaches the parser
    assert component.max_tokens == fp32.max_tokens == CPU_PARSE_BATCH_TOKENS  # max_tokens 0: by device


def test_load_names_what_it_cannot_load(tmp_path):
    (tmp_path / "xdomain.json").write_text('{"task": "summarisation"}')
    with pytest.raises(ValueError, match=r"task 'summarisation' is not one of tagging, parsing, graph-classification"):
        xdomain_nlp.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="not an xdomain_nlp model directory"):
        xdomain_nlp.load(tmp_path / "..")
