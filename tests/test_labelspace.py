"""Tag sets, mapping priors and the mapping head's zero-shot behaviour."""

import numpy as np
import pytest
import torch

from xdomain_nlp.data import load_corpus
from xdomain_nlp.heads import train_head
from xdomain_nlp.labelspace import (
    MappingHead,
    MappingPrior,
    TagSet,
    TagSetError,
    UnknownTagError,
    declared_matrix,
    load_tagset,
)


def test_builtin_tag_sets_cover_the_treebanks(data_dir):
    ptb, stts = load_tagset("ptb"), load_tagset("stts")
    assert len(load_tagset("upos")) == 17 and len(stts) == 54
    ewt = load_corpus("ud:en_ewt:train")
    assert {t for sent in ewt["xpos"] for t in sent} <= set(ptb.tags)
    gsd = load_corpus("ud:de_gsd:test")
    assert {t for sent in gsd["xpos"] for t in sent} <= set(stts.tags)


def test_user_tag_set_from_yaml_with_declared_many_to_one_and_one_to_many(tmp_path):
    path = tmp_path / "coarse.yaml"
    path.write_text(
        "name: coarse\n"
        "tags:\n  NOMINAL: nouns and names\n  VERBAL: verbs and auxiliaries\n  OTHER:\n"
        "maps_from:\n  upos:\n    NOMINAL: [NOUN, PROPN]\n    VERBAL: [VERB, AUX]\n    OTHER: [ADJ, ADV, NOUN]\n"
        "fallback: OTHER\n"
    )
    coarse = load_tagset(path)
    assert coarse.tags == ["NOMINAL", "VERBAL", "OTHER"]
    assert coarse.descriptions["NOMINAL"] == "nouns and names"
    matrix = declared_matrix(load_tagset("upos"), coarse)
    upos = load_tagset("upos")
    assert matrix[upos.index["NOUN"]].tolist() == [1, 0, 1]  # one-to-many
    assert matrix[:, coarse.index["VERBAL"]].sum() == 2  # many-to-one
    assert coarse.id("SOMETHING_ELSE") == coarse.index["OTHER"]  # fallback


def test_unknown_tags_name_where_they_were_found():
    upos = load_tagset("upos")
    with pytest.raises(UnknownTagError, match=r"file.conllu:12: tag 'NOUNN' is not in tag set 'upos'"):
        upos.id("NOUNN", "file.conllu:12")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\ntags: [A, A]\n", "duplicate tags"),
        ("name: x\ntags: [A]\nfallback: B\n", "fallback 'B'"),
        ("name: x\ntags: [A]\nmaps_from:\n  upos:\n    C: [NOUN]\n", "not in the set"),
        ("tags: [A]\n", "missing field 'name'"),
        ("name: x\ntags: [A]\ncolour: red\n", "unknown fields"),
    ],
)
def test_malformed_tag_set_files_are_named(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(TagSetError, match=message):
        load_tagset(path)


def test_bio_tag_set_and_seqeval_scoring():
    from seqeval.metrics import f1_score

    ner = TagSet.from_dict({"name": "aspects", "kind": "bio", "types": ["ASPECT"]})
    assert ner.tags == ["O", "B-ASPECT", "I-ASPECT"] and ner.kind == "bio"
    gold = [["O", "B-ASPECT", "I-ASPECT", "O"]]
    assert f1_score(gold, [["O", "B-ASPECT", "I-ASPECT", "O"]]) == 1.0
    assert f1_score(gold, [["O", "B-ASPECT", "O", "O"]]) == 0.0  # a half span is a miss


def test_prior_from_gsd_and_unreachable_tags(data_dir):
    upos, stts = load_tagset("upos"), load_tagset("stts")
    undeclared = TagSet("stts", stts.tags)
    gsd = load_corpus("ud:de_gsd:dev").select(range(50))
    prior = MappingPrior.estimate(upos, undeclared, [(gsd, "upos", "xpos", "gsd dev")])
    cond = prior.conditional()
    assert np.allclose(cond.sum(1), 1.0)
    assert cond[upos.index["NOUN"], stts.index["NN"]] > 0.9
    missing = prior.unreachable()
    assert "VVIMP" in missing and "NN" not in missing  # imperatives are rare in 50 news/review sentences
    assert prior.counts.sum() == sum(len(s) for s in gsd["upos"])
    with_table = MappingPrior.estimate(upos, stts, [(gsd, "upos", "xpos", "gsd dev")])
    assert with_table.unreachable() == []  # the declared table reaches every STTS tag


def test_mapping_head_starts_at_the_prior_and_learns():
    prior = np.array([[0.9, 0.1, 0.0], [0.0, 0.0, 1.0]])
    head = MappingHead(4, prior)
    hidden = torch.randn(6, 4)
    source = torch.tensor([[5.0, -5.0]] * 3 + [[-5.0, 5.0]] * 3)
    assert head(hidden, source).argmax(-1).tolist() == [0, 0, 0, 2, 2, 2]
    labels = torch.tensor([1, 1, 1, 2, 2, 2])  # the target says: source tag 0 is really target 1 here
    train_head(head, (hidden, source), labels, epochs=200, lr=0.05)
    assert head(hidden, source).argmax(-1).tolist() == [1, 1, 1, 2, 2, 2]


def test_mapping_head_saves_loads_and_serves_its_tag_set(tiny_tagger, tmp_path):
    from xdomain_nlp.heads import word_features
    from xdomain_nlp.tagging import encode_corpus, load_tagger, predict_windows

    model, tokenizer, _ = load_tagger(tiny_tagger)
    upos, stts = load_tagset("upos"), load_tagset("stts")
    gsd = load_corpus("ud:de_gsd:dev").select(range(12))
    feats = word_features(model, tokenizer, gsd, layers=(4, 12))
    target = torch.tensor([stts.index[t] for sent in gsd["xpos"] for t in sent])
    head = MappingHead(
        model.hf.config.hidden_size, MappingPrior.estimate(upos, stts).conditional(), feature_layers=(4, 12)
    )
    train_head(head, (feats.states, feats.source_logits), target, epochs=5)
    model.add_mapping_head(stts, head)
    windows = encode_corpus(gsd, tokenizer, label_column=None, label2id=None)
    before, _ = predict_windows(model, windows, len(gsd), pad_id=tokenizer.pad_token_id, tag_set="stts")
    with torch.no_grad():
        direct = head(feats.states, feats.source_logits).argmax(-1).tolist()
    assert [t for sent in before for t in sent] == direct  # the served path is the trained path
    model.save(tmp_path / "m", tokenizer)
    loaded, _, meta = load_tagger(tmp_path / "m")
    assert loaded.available_tag_sets == ["upos", "stts"] and loaded.labels_for("stts") == stts.tags
    after, _ = predict_windows(loaded, windows, len(gsd), pad_id=tokenizer.pad_token_id, tag_set="stts")
    assert after == before
    upos_pred, _ = predict_windows(loaded, windows, len(gsd), pad_id=tokenizer.pad_token_id)
    assert max(max(s) for s in upos_pred) < 17
    with pytest.raises(KeyError, match="no mapping head for tag set 'ptb'"):
        predict_windows(loaded, windows, len(gsd), pad_id=tokenizer.pad_token_id, tag_set="ptb")
