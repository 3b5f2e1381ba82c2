"""The spaCy components: entry points, spaCy's own tokens, windows, batching, disk and wheel round trips."""

from __future__ import annotations

import json
import os
import subprocess
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import spacy
import torch
from conftest import SAMPLE_TEXT, packaged_pipeline
from spacy.tokens import Doc
from spacy.training import Example

from xdomain_nlp.data import load_corpus

FP32 = {"precision": "fp32", "device": "cpu"}


def tagger_nlp(model: Path, lang: str = "de", **config) -> spacy.Language:
    nlp = spacy.blank(lang)
    nlp.add_pipe("xdomain_tagger", config={"model": str(model), **FP32, **config})
    return nlp


def tags(doc: Doc, attr: str = "pos_") -> list[str]:
    return [getattr(t, attr) for t in doc]


def gold_docs(nlp: spacy.Language, corpus) -> list[Doc]:
    return [Doc(nlp.vocab, words=list(words)) for words in corpus["words"]]


def spacy_and_package(model_dir: Path, model, tokenizer, tag_set: str) -> tuple[list[Doc], list, list]:
    """The first 20 GSD test sentences through spaCy (``tag_set``) and the package (``tag_set``, source)."""
    from xdomain_nlp.tagging import encode_corpus, predict_windows

    nlp = tagger_nlp(model_dir, tag_set=tag_set)
    corpus = load_corpus("ud:de_gsd:test").select(range(20))
    docs = list(nlp.pipe(gold_docs(nlp, corpus)))
    windows = encode_corpus(corpus, tokenizer, label_column=None, label2id=None)
    mapped, _ = predict_windows(model, windows, len(corpus), pad_id=tokenizer.pad_token_id, tag_set=tag_set)
    source, _ = predict_windows(model, windows, len(corpus), pad_id=tokenizer.pad_token_id)
    return docs, mapped, source


def test_factories_are_entry_points():
    names = {ep.name: ep.value for ep in entry_points(group="spacy_factories")}
    assert names["xdomain_tagger"] == "xdomain_nlp.spacy_pipes.tagger:make_tagger"
    assert names["xdomain_sentiment"] == "xdomain_nlp.spacy_pipes.sentiment:make_sentiment"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_tagger_on_spacy_tokens(small_tagger, lang):
    nlp = tagger_nlp(small_tagger, lang)
    doc = nlp(SAMPLE_TEXT[lang] + "\n\n  Noch ein Satz .")
    assert len(doc) > 15
    for token in doc:
        if token.is_space:
            assert token.pos_ == "SPACE" and token._.xdomain_scores is None
        else:
            assert token.pos_ in nlp.get_pipe("xdomain_tagger").labels
            assert 0.0 < token._.xdomain_scores["pos"] <= 1.0
    assert doc[-1].pos_ == "PUNCT"


def test_long_documents_are_tagged_in_windows(small_tagger):
    """A document far longer than the window: every token tagged, sentence by sentence when spaCy
    knows the sentences, and through overlapping windows over the whole text when it does not."""
    from xdomain_nlp.tagging import WordPieceCache, encode_sentence, load_tagger, predict_windows

    corpus = load_corpus("ud:de_gsd:test").select(range(60))
    nlp = tagger_nlp(small_tagger, max_length=48, window_overlap=16)
    per_sentence = [tags(d) for d in nlp.pipe(gold_docs(nlp, corpus))]
    words = [w for s in corpus["words"] for w in s]
    starts = [i == 0 for s in corpus["words"] for i in range(len(s))]
    with_sents = nlp(Doc(nlp.vocab, words=words, sent_starts=starts))
    assert tags(with_sents) == [t for s in per_sentence for t in s]

    no_sents = nlp(Doc(nlp.vocab, words=words))  # one unit of ~1,000 words
    model, tokenizer, _ = load_tagger(small_tagger)
    windows = encode_sentence(0, WordPieceCache(tokenizer)(words), None, bos=0, eos=2, max_length=48, overlap=16)
    assert len(windows) > 20
    (pred,), _ = predict_windows(model, windows, 1, pad_id=tokenizer.pad_token_id)
    assert tags(no_sents) == [model.labels[i] for i in pred]


def test_pipe_batches_like_single_calls(small_tagger):
    nlp = tagger_nlp(small_tagger)
    texts = [SAMPLE_TEXT["de"], "Kurz.", SAMPLE_TEXT["de"] * 3, "Ein  Satz\tmit Leerraum ."] * 3
    batched = [tags(d) for d in nlp.pipe(texts, batch_size=5)]
    single = [tags(nlp(t)) for t in texts]
    assert batched == single


def test_accuracy_matches_the_native_evaluation(small_tagger):
    """nlp.evaluate on GSD docs gives the package's own UPOS accuracy on the same sentences."""
    from xdomain_nlp.tagging import encode_corpus, load_tagger, predict_windows
    from xdomain_nlp.training import tagging_report

    corpus = load_corpus("ud:de_gsd:test").select(range(200))
    model, tokenizer, _ = load_tagger(small_tagger)
    label2id = {t: i for i, t in enumerate(model.labels)}
    windows = encode_corpus(corpus, tokenizer, label_column="upos", label2id=label2id, max_length=256)
    pred, _ = predict_windows(model, windows, len(corpus), pad_id=tokenizer.pad_token_id, max_tokens=16384)
    native = tagging_report([[label2id[t] for t in s] for s in corpus["upos"]], pred, model.labels)["accuracy"]

    nlp = tagger_nlp(small_tagger)
    examples = []
    for words, upos in zip(corpus["words"], corpus["upos"]):
        examples.append(Example(Doc(nlp.vocab, words=list(words)), Doc(nlp.vocab, words=list(words), pos=upos)))
    scores = nlp.evaluate(examples)
    assert abs(100 * scores["pos_acc"] - native) < 1e-9


def test_disk_and_bytes_round_trips_carry_the_weights(small_tagger, tmp_path):
    nlp = tagger_nlp(small_tagger)
    before = nlp(SAMPLE_TEXT["de"])
    nlp.to_disk(tmp_path / "pipeline")
    # The config still names the original model; the saved copy is what must be read.
    config = (tmp_path / "pipeline" / "config.cfg").read_text()
    assert "xdomain_tagger" in config
    moved = tmp_path / "moved"
    os.rename(tmp_path / "pipeline", moved)
    loaded = spacy.load(moved, config={"components": {"xdomain_tagger": {"model": "/nonexistent/model"}}})
    after = loaded(SAMPLE_TEXT["de"])
    assert tags(after) == tags(before)
    assert [t._.xdomain_scores["pos"] for t in after] == pytest.approx([t._.xdomain_scores["pos"] for t in before])
    assert loaded.meta["labels"]["xdomain_tagger"][:3] == ["ADJ", "ADP", "ADV"]

    blank = spacy.blank("de")
    blank.add_pipe("xdomain_tagger", config={"model": "", **FP32})
    blank.get_pipe("xdomain_tagger").from_bytes(nlp.get_pipe("xdomain_tagger").to_bytes())
    assert tags(blank(SAMPLE_TEXT["de"])) == tags(before)


def test_exclude_model_leaves_the_weights_out_and_reads_the_config(small_tagger, tmp_path):
    """``exclude=["model"]``: no weights written or read; the component loads its config's model."""
    component = tagger_nlp(small_tagger).get_pipe("xdomain_tagger")
    component.to_disk(tmp_path / "light", exclude=["model"])
    assert (tmp_path / "light").is_dir() and not any((tmp_path / "light").iterdir())
    assert component.to_bytes(exclude=["model"]) == b""
    fresh = tagger_nlp(small_tagger)
    fresh.get_pipe("xdomain_tagger").from_disk(tmp_path / "light")  # nothing saved: the config's model
    assert tags(fresh(SAMPLE_TEXT["de"])) == tags(tagger_nlp(small_tagger)(SAMPLE_TEXT["de"]))
    component.to_disk(tmp_path / "full")
    broken = tmp_path / "full" / "model" / "model.safetensors"
    broken.write_bytes(b"not weights")
    other = tagger_nlp(small_tagger).get_pipe("xdomain_tagger")
    other.from_disk(tmp_path / "full", exclude=["model"])  # the damaged copy is not read
    assert other.model is None


def test_saved_component_records_its_format_and_refuses_a_newer_one(small_tagger, tmp_path):
    """The saved weights carry the factory and format that wrote them; a later format is an error, not garbage."""
    import json

    component = tagger_nlp(small_tagger).get_pipe("xdomain_tagger")
    component.to_disk(tmp_path / "saved")
    record = json.loads((tmp_path / "saved" / "model" / "spacy_component.json").read_text())
    assert record["factory"] == "xdomain_tagger" and record["format"] == 1
    record["format"] = 2
    (tmp_path / "saved" / "model" / "spacy_component.json").write_text(json.dumps(record))
    fresh = tagger_nlp(small_tagger).get_pipe("xdomain_tagger")
    with pytest.raises(ValueError, match=r"spacy_component.json: component format 2 .*upgrade xdomain_nlp"):
        fresh.from_disk(tmp_path / "saved")
    record.update(format=1, factory="xdomain_parser")
    (tmp_path / "saved" / "model" / "spacy_component.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="saved by the 'xdomain_parser' component, not 'xdomain_tagger'"):
        fresh.from_disk(tmp_path / "saved")


def test_mapped_tag_set_fills_token_tag(small_tagger, tmp_path):
    from xdomain_nlp.labelspace import MappingHead, MappingPrior, load_tagset
    from xdomain_nlp.tagging import load_tagger

    model, tokenizer, meta = load_tagger(small_tagger)
    upos, stts = load_tagset("upos"), load_tagset("stts")
    head = MappingHead(model.hf.config.hidden_size, MappingPrior.estimate(upos, stts).conditional())
    model.add_mapping_head(stts, head)
    model.save(tmp_path / "mapped", tokenizer, {k: v for k, v in meta.items() if k not in ("task", "labels")})

    docs, stts_pred, upos_pred = spacy_and_package(tmp_path / "mapped", model, tokenizer, "stts")
    assert [tags(d, "tag_") for d in docs] == [[stts.tags[i] for i in s] for s in stts_pred]
    assert [tags(d) for d in docs] == [[model.labels[i] for i in s] for s in upos_pred]
    assert set(docs[0][0]._.xdomain_scores) == {"pos", "tag"}

    with pytest.raises(ValueError, match="tag_set 'ptb' is not served"):
        tagger_nlp(tmp_path / "mapped", tag_set="ptb")("Ein Satz.")


def test_convention_tag_set_fills_token_pos(small_tagger, tmp_path):
    from xdomain_nlp.heads import fit_convention_head
    from xdomain_nlp.tagging import load_tagger

    model, tokenizer, meta = load_tagger(small_tagger)
    ewt = load_corpus("ud:en_ewt:train").select(range(192))
    fit_convention_head(model, tokenizer, ewt, "ud_de", ["PRON[Poss=Yes] -> DET"], sentences=32)
    model.save(tmp_path / "conv", tokenizer, {k: v for k, v in meta.items() if k not in ("task", "labels")})
    docs, pred, _ = spacy_and_package(tmp_path / "conv", model, tokenizer, "ud_de")
    assert [tags(d) for d in docs] == [[model.labels[i] for i in s] for s in pred]
    assert all(t.tag_ == "" for d in docs for t in d) and set(docs[0][0]._.xdomain_scores) == {"pos"}


def test_bad_model_config_names_the_problem(tmp_path):
    with pytest.raises(ValueError, match="no model given"):
        spacy.blank("de").add_pipe("xdomain_tagger")("Ein Satz.")
    with pytest.raises(FileNotFoundError, match="neither a local model directory nor a valid Hub repo id"):
        tagger_nlp(tmp_path / "missing" / "model")("Ein Satz.")
    with pytest.raises(ValueError, match="device: 'gpu0'"):
        spacy.blank("de").add_pipe("xdomain_tagger", config={"model": "x", "device": "gpu0"})


@pytest.fixture(scope="module")
def sentiment_model(small_encoder, tmp_path_factory) -> Path:
    """A two-label sequence classifier on the trimmed encoder (untrained head: plumbing, not accuracy)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        small_encoder, num_labels=2, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1}
    )
    out = tmp_path_factory.mktemp("sentiment") / "model"
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(small_encoder).save_pretrained(out)
    return out


def test_sentiment_sets_cats_and_reads_long_docs_in_windows(sentiment_model, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("xdomain_sentiment", config={"model": str(sentiment_model), **FP32, "max_length": 32})
    short = nlp(SAMPLE_TEXT["en"])
    assert set(short.cats) == {"negative", "positive"}
    assert sum(short.cats.values()) == pytest.approx(1.0, abs=1e-5)

    long_text = " ".join([SAMPLE_TEXT["en"]] * 40)  # ~600 tokens with a 32-subword window
    long_doc = nlp(long_text)
    assert sum(long_doc.cats.values()) == pytest.approx(1.0, abs=1e-5)
    whole = spacy.blank("en")
    whole.add_pipe("xdomain_sentiment", config={"model": str(sentiment_model), **FP32, "max_length": 512})
    assert long_doc.cats["positive"] == pytest.approx(whole(long_text).cats["positive"], abs=0.05)

    nlp.to_disk(tmp_path / "pipe")
    again = spacy.load(tmp_path / "pipe", config={"components": {"xdomain_sentiment": {"model": "/gone"}}})
    assert again(SAMPLE_TEXT["en"]).cats == pytest.approx(short.cats)
    examples = [Example.from_dict(nlp.make_doc("great"), {"cats": {"positive": 1.0, "negative": 0.0}})]
    assert "cats_macro_f" in again.evaluate(examples)


def test_empty_text_gets_no_cats_and_no_tags(sentiment_model, small_tagger):
    """Decided: a doc with no text has no opinion and no words; spaCy runs on, nothing is made up."""
    nlp = spacy.blank("en")
    nlp.add_pipe("xdomain_sentiment", config={"model": str(sentiment_model), **FP32})
    docs = list(nlp.pipe(["", "  \n ", "great"]))
    assert docs[0].cats == {} and docs[1].cats == {} and set(docs[2].cats) == {"negative", "positive"}
    tagger = tagger_nlp(small_tagger, "de")
    assert len(tagger("")) == 0 and [t.pos_ for t in tagger("  \n ")] == ["SPACE"]


@pytest.mark.slow
def test_spacy_package_wheel_installs_and_loads_in_a_fresh_venv(small_tagger, tmp_path):
    """`spacy package` -> wheel -> pip install into a new virtualenv -> spacy.load by package name."""
    nlp = tagger_nlp(small_tagger)
    expected = tags(nlp(SAMPLE_TEXT["de"]))
    nlp.meta.update({"name": "xdomain_test_tagger", "version": "0.0.1"})
    nlp.to_disk(tmp_path / "pipeline")
    py, meta = packaged_pipeline(tmp_path / "pipeline", tmp_path)
    assert any(r.startswith("xdomain-nlp") for r in meta["requirements"])
    venv = py.parents[1]
    script = (
        "import json, sys, spacy, de_xdomain_test_tagger as pkg\n"
        "assert pkg.__file__.startswith(sys.argv[1]), pkg.__file__\n"
        "cfg = {'components': {'xdomain_tagger': {'precision': 'fp32', 'device': 'cpu'}}}\n"
        "nlp = spacy.load('de_xdomain_test_tagger', config=cfg)\n"
        "print(json.dumps([t.pos_ for t in nlp(sys.argv[2])]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = [str(py), "-c", script, str(venv), SAMPLE_TEXT["de"]]
    out = subprocess.run(run, check=True, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected
