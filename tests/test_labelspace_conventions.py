"""Annotation conventions: rules over the source annotation, and the constrained head they train."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xdomain_nlp.data import load_corpus
from xdomain_nlp.heads import fit_convention_head
from xdomain_nlp.labelspace import (
    ConventionRule,
    MappingHead,
    TagSet,
    convention_tag_set,
    declared_matrix,
    parse_rules,
    relabel,
)
from xdomain_nlp.tagging import UPOS, encode_corpus, load_tagger, predict_windows

POSSESSIVES = "PRON[Poss=Yes] -> DET"


def test_rules_parse_and_bad_rules_say_what_is_wrong():
    rule = ConventionRule.parse(POSSESSIVES)
    assert (rule.tag, rule.feats, rule.to) == ("PRON", (("Poss", "Yes"),), "DET")
    assert ConventionRule.parse("ADJ -> ADV").feats == ()
    assert ConventionRule.parse("PRON[PronType=Prs|Reflex=Yes]->PRON").feats == (("PronType", "Prs"), ("Reflex", "Yes"))
    assert str(rule) == POSSESSIVES
    with pytest.raises(ValueError, match="expected 'TAG -> TAG'"):
        ConventionRule.parse("PRON Poss -> DET")
    with pytest.raises(ValueError, match="'Poss' is not Feat=Value"):
        ConventionRule.parse("PRON[Poss] -> DET")
    with pytest.raises(ValueError, match="'DETERMINER' is not a tag"):
        parse_rules(["PRON -> DETERMINER"], UPOS)
    with pytest.raises(ValueError, match="at least one rule"):
        parse_rules([], UPOS)


def test_suffix_rules_match_the_end_of_the_form_in_any_case(data_dir):
    rule = ConventionRule.parse("ADV[suffix=ly/wise] -> ADJ")
    assert rule.where == (("suffix", ("ly", "wise")),)
    assert rule.matches("ADV", None, {"suffix": "Quickly"}) and rule.matches("ADV", "_", {"suffix": "otherwise"})
    assert not rule.matches("ADV", None, {"suffix": "soon"}) and not rule.matches("ADJ", None, {"suffix": "lovely"})
    assert not rule.matches("ADV", None, {})  # no form column: no match, not an error
    ewt = load_corpus("ud:en_ewt:dev").select(range(300))
    out, changed = relabel(
        ewt, [ConventionRule.parse("ADV[form=only] -> ADV"), ConventionRule.parse("ADV[suffix=ly] -> ADJ")]
    )
    moved = [w for ws, a, b in zip(out["words"], out["upos"], out["convention"]) for w, x, y in zip(ws, a, b) if x != y]
    assert moved and all(w.lower().endswith("ly") and w.lower() != "only" for w in moved)
    assert changed["ADV[suffix=ly] -> ADJ"] == len(moved)


def test_relabel_changes_exactly_the_matching_words(data_dir):
    ewt = load_corpus("ud:en_ewt:dev").select(range(300))
    rules = parse_rules([POSSESSIVES, "PRON[Poss=Maybe] -> DET"], UPOS)
    out, changed = relabel(ewt, rules)
    expected = sum(
        u == "PRON" and "Poss=Yes" in (f or "").split("|")
        for tags, fs in zip(ewt["upos"], ewt["feats"])
        for u, f in zip(tags, fs)
    )
    assert expected > 20 and changed == {POSSESSIVES: expected, "PRON[Poss=Maybe] -> DET": 0}
    diffs = [(a, b) for old, new in zip(out["upos"], out["convention"]) for a, b in zip(old, new) if a != b]
    assert len(diffs) == expected and set(diffs) == {("PRON", "DET")}
    with pytest.raises(KeyError, match="no column 'xfeats'"):
        relabel(ewt, rules, feats_column="xfeats")


def test_constrained_head_only_moves_what_the_rules_allow():
    upos = TagSet("upos", list(UPOS))
    target = convention_tag_set("ud_de", upos, parse_rules([POSSESSIVES], UPOS))
    assert sorted(target.maps_from["upos"]["DET"]) == ["DET", "PRON"] and target.maps_from["upos"]["NOUN"] == ["NOUN"]
    allowed = declared_matrix(upos, target) > 0
    prior = allowed / allowed.sum(1, keepdims=True)
    head = MappingHead(16, prior, allowed=allowed)
    torch.manual_seed(0)
    torch.nn.init.normal_(head.residual.weight, std=3.0)  # whatever the residual has learned...
    hidden, source = torch.randn(200, 16), torch.randn(200, len(UPOS)) * 3
    p_target = head(hidden, source).exp()
    p_source = source.softmax(-1)
    assert torch.allclose(p_target.sum(-1), torch.ones(200), atol=1e-5)
    same = [i for i, t in enumerate(UPOS) if t not in ("PRON", "DET")]
    torch.testing.assert_close(p_target[:, same], p_source[:, same])  # ...only PRON mass can move, and only to DET
    moved = p_target[:, UPOS.index("DET")] - p_source[:, UPOS.index("DET")]
    assert (moved >= -1e-6).all() and moved.max() > 0.05
    with pytest.raises(ValueError, match="a target for every source tag"):
        MappingHead(16, prior, allowed=np.zeros_like(allowed))


def test_convention_head_is_fitted_saved_and_served(tiny_tagger, tmp_path):
    model, tokenizer, _ = load_tagger(tiny_tagger)
    ewt = load_corpus("ud:en_ewt:train").select(range(400))
    target, changed = fit_convention_head(model, tokenizer, ewt, "ud_de", [POSSESSIVES], sentences=48, seed=0)
    assert model.available_tag_sets == ["upos", "ud_de"] and changed[POSSESSIVES] > 0
    assert target.tags == list(UPOS)
    gsd = load_corpus("ud:de_gsd:test").select(range(20))
    windows = encode_corpus(gsd, tokenizer, label_column=None, label2id=None)
    before, _ = predict_windows(model, windows, len(gsd), pad_id=tokenizer.pad_token_id, tag_set="ud_de")
    model.save(tmp_path / "model", tokenizer)
    loaded, _, meta = load_tagger(tmp_path / "model")
    assert torch.equal(loaded.mapping_heads["ud_de"].allowed, model.mapping_heads["ud_de"].allowed)
    after, _ = predict_windows(loaded, windows, len(gsd), pad_id=tokenizer.pad_token_id, tag_set="ud_de")
    assert after == before
    source, _ = predict_windows(loaded, windows, len(gsd), pad_id=tokenizer.pad_token_id)
    pron, det = UPOS.index("PRON"), UPOS.index("DET")
    for s_row, c_row in zip(source, after):  # mass moves only from PRON to DET
        assert all(c in (s, det) or s == pron for s, c in zip(s_row, c_row))
    with pytest.raises(ValueError, match="match no word"):
        fit_convention_head(model, tokenizer, ewt, "x", ["PRON[Poss=Maybe] -> DET"], sentences=16)
