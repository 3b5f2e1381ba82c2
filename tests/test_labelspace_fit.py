"""Adding a tag set to a trained tagger: the library step, the CLI, and encoder tuning (recipe)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import recipe_main

from xdomain_nlp.cli import main as cli
from xdomain_nlp.data import corpus_path, load_corpus
from xdomain_nlp.heads import fit_mapping_head, target_ids
from xdomain_nlp.labelspace import TagSetError, declared_matrix, load_tagset, sample_sentences
from xdomain_nlp.tagging import UPOS, encode_corpus, load_tagger, predict_windows

REPO = Path(__file__).resolve().parents[1]


def test_sample_sentences_is_seeded_and_bounded():
    assert sample_sentences(10, 3, 0) == sample_sentences(10, 3, 0)
    assert sample_sentences(10, 3, 0) != sample_sentences(10, 3, 1)
    assert sample_sentences(10, -1, 0) == list(range(10)) == sample_sentences(10, 50, 0)
    assert sample_sentences(10, 0, 0) == []


def test_target_ids_name_the_sentence_of_an_unknown_tag(data_dir):
    gsd = load_corpus("ud:de_gsd:dev").select(range(3))
    ptb = load_tagset("ptb")  # German STTS tags are not Penn tags
    with pytest.raises(ValueError, match=r"ud:de_gsd:dev: .*word \d+"):
        target_ids(gsd, ptb, "xpos", "ud:de_gsd:dev")
    with pytest.raises(KeyError, match="no column 'stts'"):
        target_ids(gsd, load_tagset("stts"), "stts", "ud:de_gsd:dev")


def test_fit_mapping_head_with_and_without_examples(tiny_tagger):
    model, tokenizer, _ = load_tagger(tiny_tagger)
    upos, stts = load_tagset("upos"), load_tagset("stts")
    gsd = load_corpus("ud:de_gsd:dev")
    empty = gsd.select([])
    head0, prior0, _ = fit_mapping_head(model, tokenizer, empty, upos, stts, target_column="xpos")
    assert np.array_equal(prior0.counts, declared_matrix(upos, stts))  # the declared table only
    cond = prior0.conditional()
    for s, t in (("NOUN", "NN"), ("VERB", "VVFIN"), ("DET", "ART")):  # ties broken by the declared default
        assert stts.tags[cond[upos.index[s]].argmax()] == t
    train = gsd.select(sample_sentences(len(gsd), 20, 0))
    head, prior, feats = fit_mapping_head(model, tokenizer, train, upos, stts, target_column="xpos", epochs=30)
    # The k sentences add one expected count per word to the declared pairs.
    assert prior.counts.sum() == pytest.approx(prior0.counts.sum() + feats.states.shape[0], rel=1e-4)
    gold = target_ids(train, stts, "xpos", "train")
    with torch.no_grad():
        fitted = (head(feats.states, feats.source_logits).argmax(-1) == gold).float().mean()
        at_prior = (head0(feats.states, feats.source_logits).argmax(-1) == gold).float().mean()
    assert fitted > at_prior  # the k sentences taught it something the table could not


def test_cli_mapping_estimate_reports_prior_and_unreachable(data_dir, tmp_path, capsys):
    out = tmp_path / "prior.json"
    assert cli(["mapping", "estimate", "upos", "stts", "--corpus", "ud:de_gsd:dev", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "NOUN -> NN" in printed and "unreachable stts tags" in printed
    saved = json.loads(out.read_text())
    assert saved["source"]["name"] == "upos" and saved["target"]["name"] == "stts"
    assert len(saved["counts"]) == 17 and len(saved["counts"][0]) == len(load_tagset("stts"))


def test_cli_mapping_train_adds_a_tag_set(tiny_tagger, tmp_path, capsys):
    out = tmp_path / "with_stts"
    args = ["mapping", "train", str(tiny_tagger), "stts", "--train", "ud:de_gsd:dev", "--k", "10", "--out", str(out)]
    assert cli([*args, "--projection", "ud_en_stts", "--projection-sentences", "20"]) == 0
    printed = capsys.readouterr().out
    assert "projection ud_en_stts: 20 sentences of ud:en_ewt:train" in printed and "tag sets: upos, stts" in printed
    model, tokenizer, _ = load_tagger(out)
    gsd = load_corpus("ud:de_gsd:test").select(range(4))
    windows = encode_corpus(gsd, tokenizer, label_column=None, label2id=None)
    pred, _ = predict_windows(model, windows, len(gsd), pad_id=tokenizer.pad_token_id, tag_set="stts")
    assert [len(p) for p in pred] == [len(w) for w in gsd["words"]]
    # The CLI serves the new tag set: evaluate against GSD's XPOS column, tag into XPOS beside UPOS.
    small = tmp_path / "gsd.conllu"
    text = corpus_path("ud:de_gsd", "test").read_text(encoding="utf-8")
    small.write_text("\n\n".join(text.split("\n\n")[:4]) + "\n\n", encoding="utf-8")
    assert cli(["evaluate", str(out), str(small), "--tag-set", "stts", "--column", "xpos"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["tag_set"] == "stts" and result["column"] == "xpos" and result["words"] == sum(map(len, gsd["words"]))
    tagged_file = tmp_path / "tagged.conllu"
    assert cli(["tag", str(out), str(small), "--tag-set", "stts", "-o", str(tagged_file)]) == 0
    tagged = load_corpus(str(tagged_file))
    stts = set(load_tagset("stts").tags)
    assert all(t in stts for sent in tagged["xpos"] for t in sent) and all(t in UPOS for s in tagged["upos"] for t in s)
    assert "tagged 4 sentences" in capsys.readouterr().err  # the closing summary of tag -o
    with pytest.raises(SystemExit) as stopped:
        cli(["tag", str(out), str(small), "--tag-set", "ptb"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.startswith(f"xdomain-nlp: error: {out}: no tag set 'ptb'; it has ['upos', 'stts']")


def test_recipe_tunes_encoder_with_the_head_and_keeps_embeddings(tiny_tagger, tmp_path):
    """custom_tagset.py with tune_steps: encoder layers move, word embeddings do not, the model saves."""
    out = tmp_path / "run"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "recipes/custom_tagset.py"),
            "--config",
            str(REPO / "recipes/configs/custom_tagset_stts.yaml"),
            f"source_model={tiny_tagger}",
            "k=8",
            "projection_sentences=30",
            "tune_steps=4",
            "tune_batch_size=4",
            "projection_tune_steps=3",
            "projection_tune_sentences=40",
            "eval=[ud:de_gsd:test]",
            f"output_dir={out}",
        ],
        check=True,
    )
    before, _, _ = load_tagger(tiny_tagger)
    after, _, meta = load_tagger(out / "model")
    assert after.available_tag_sets == ["upos", "stts"]
    emb = "embeddings.word_embeddings.weight"
    b, a = dict(before.encoder.named_parameters()), dict(after.encoder.named_parameters())
    assert torch.equal(b[emb], a[emb])
    top = "encoder.layer.11.attention.self.query.weight"
    assert not torch.equal(b[top], a[top])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["k_sentences"] == 8 and metrics["config"]["tune_steps"] == 4
    # Tuning moved the encoder under the UPOS head too: its accuracy is reported beside STTS.
    assert 0 < metrics["source_results"]["ud:de_gsd:test"] <= 100
    assert metrics["results"]["ud:de_gsd:test"]["words"] > 10000
    # The STTS config trains the head on English rewritten as STTS too; the rule counts are kept.
    assert metrics["config"]["projection"] == "ud_en_stts" and metrics["projection_rule_counts"]["NOUN -> NN"] > 0
    # The model card says how the STTS head was made.
    from xdomain_nlp.hub.card import build_model_card

    assert meta["mapping_training"]["stts"]["projection_sentences"] == 30
    card = str(build_model_card(meta, [], "someone/tagger-stts"))
    assert "fitted on 8 labelled sentences of `ud:de_gsd:dev`" in card
    assert "and on 30 sentences of `ud:en_ewt:train` written in `stts` by the projection rules `ud_en_stts`" in card
    assert "(the encoder first tuned 3 steps on 40 sentences of `ud:en_ewt:train` written that way)" in card
    assert "then 4 steps tuning the encoder" in card


def test_declared_defaults_break_ties_and_are_checked(tmp_path):
    path = tmp_path / "coarse.yaml"
    path.write_text(
        "name: coarse\ntags: [NOMINAL, NAME, OTHER]\n"
        "maps_from:\n  upos:\n    NOMINAL: [NOUN, PROPN]\n    NAME: [PROPN]\n    OTHER: [ADJ]\n"
        "defaults_from:\n  upos:\n    PROPN: NAME\n"
    )
    coarse, upos = load_tagset(path), load_tagset("upos")
    matrix = declared_matrix(upos, coarse)
    assert matrix[upos.index["PROPN"]].tolist() == [1, 2, 0] and matrix[upos.index["NOUN"]].tolist() == [1, 0, 0]
    assert type(coarse).from_dict(coarse.to_dict()).defaults_from == {"upos": {"PROPN": "NAME"}}
    path.write_text(path.read_text().replace("PROPN: NAME", "ADJ: NAME"))
    with pytest.raises(TagSetError, match=r"defaults_from.upos pairs not declared in maps_from.upos: \['ADJ->NAME'\]"):
        load_tagset(path)


def test_recipe_refuses_encoder_tuning_on_a_projection_it_was_not_given():
    main = recipe_main("custom_tagset")

    config = str(REPO / "recipes/configs/custom_tagset_stts.yaml")
    with pytest.raises(ValueError, match="projection_tune_steps > 0 needs a projection"):
        main(["--config", config, "projection=null", "projection_tune_steps=600"])
