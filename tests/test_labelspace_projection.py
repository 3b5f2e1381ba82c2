"""Projections: an English treebank written in STTS by rules, and the mapping head it trains."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from xdomain_nlp.data import load_corpus
from xdomain_nlp.heads import fit_mapping_head, target_ids, train_head, word_features
from xdomain_nlp.labelspace import (
    NO_COUNTERPART,
    PROJECTED_COLUMN,
    ConventionRule,
    MappingHead,
    load_projection,
    load_tagset,
    sample_sentences,
)


def test_rules_read_other_columns_and_keep_commas_in_values():
    amod = ConventionRule.parse("ADJ[deprel=amod] -> ADJA")
    assert amod.matches("ADJ", "Degree=Pos", {"deprel": "amod"})
    assert amod.matches("ADJ", "_", {"deprel": "amod:relcl"})  # a subtype matches its universal relation
    assert not amod.matches("ADJ", "_", {"deprel": "xcomp"}) and not amod.matches("ADJ", "_", {})
    comma = ConventionRule.parse("PUNCT[form=,] -> $,")
    assert comma.where == (("form", (",",)),) and comma.to == "$,"
    than = ConventionRule.parse("ADP[form=than/as,deprel=case] -> KOKOM")
    assert than.matches("ADP", None, {"form": "Than", "deprel": "case"})  # forms match in any case
    assert not than.matches("ADP", None, {"form": "like", "deprel": "case"})
    assert ConventionRule.parse("PRON[PronType=Int,Rel] -> PWS").feats == (("PronType", "Int,Rel"),)
    assert str(than) == "ADP[form=than/as,deprel=case] -> KOKOM"
    with pytest.raises(ValueError, match="'head' is not one of"):
        ConventionRule.parse("ADJ[head=3] -> ADJA")


def test_shipped_projection_writes_english_as_stts(data_dir):
    projection = load_projection("ud_en_stts")
    assert (projection.source.name, projection.target.name) == ("upos", "stts")
    ewt = load_corpus("ud:en_ewt:train").select(range(300))
    projected, counts = projection.apply(ewt)
    stts = set(load_tagset("stts").tags)
    pairs = Counter()
    for words, xpos, tags in zip(ewt["words"], ewt["xpos"], projected[PROJECTED_COLUMN]):
        assert len(tags) == len(words)  # every word gets a tag or an explicit "_"
        assert all(t in stts or t == NO_COUNTERPART for t in tags)
        pairs.update(zip(xpos, tags))
    # What the English annotation knows reaches STTS: verb forms, infinitive "to", commas, articles.
    assert pairs[("VBN", "VVPP")] > 0 and pairs[("VBD", "VVFIN")] > 0 and pairs[("MD", "VMFIN")] > 0
    assert pairs[("TO", "PTKZU")] > 0 and pairs[(",", "$,")] > 0
    assert pairs[("POS", NO_COUNTERPART)] > 0  # the possessive 's has no STTS word of its own
    assert sum(counts.values()) == sum(len(w) for w in ewt["words"])  # each word written by exactly one rule
    assert projection.left_out(counts) == sum(t == NO_COUNTERPART for s in projected[PROJECTED_COLUMN] for t in s)
    ids = target_ids(projected, load_tagset("stts"), PROJECTED_COLUMN, "ewt", skip=NO_COUNTERPART)
    assert int((ids == -1).sum()) == projection.left_out(counts)


def test_projection_errors_name_the_file_and_the_word(data_dir, tmp_path):
    partial = tmp_path / "partial.yaml"
    partial.write_text('name: partial\nsource: upos\ntarget: stts\nrules: ["NOUN -> NN"]\n')
    ewt = load_corpus("ud:en_ewt:train").select(range(2))
    first = ewt[0]
    with pytest.raises(
        ValueError, match=rf"sentence {first['sent_id']}, word 1 {first['words'][0]!r}.*no projection rule"
    ):
        load_projection(partial).apply(ewt)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text('name: wrong\nsource: upos\ntarget: stts\nrules: ["NOUN -> NOUN"]\n')
    with pytest.raises(ValueError, match=r"wrong.yaml: .*'NOUN' is not a tag of the target tag set"):
        load_projection(wrong)
    missing = tmp_path / "missing.yaml"
    missing.write_text("name: missing\nsource: upos\nrules: []\n")
    with pytest.raises(ValueError, match=r"missing.yaml: missing field 'target'"):
        load_projection(missing)
    with pytest.raises(FileNotFoundError, match="ud_en_stts"):
        load_projection("no_such_projection")


def test_zero_weight_words_do_not_teach_the_head():
    x = torch.randn(64, 8)
    labels = torch.cat([torch.zeros(32, dtype=torch.long), torch.ones(32, dtype=torch.long)])
    x[32:] = x[:32]  # the same inputs with the opposite label ...
    weights = torch.cat([torch.ones(32), torch.zeros(32)])  # ... weigh nothing
    head = train_head(torch.nn.Linear(8, 2), (x,), labels, epochs=50, lr=5e-2, weights=weights)
    with torch.no_grad():
        assert (head(x[:32]).argmax(-1) == 0).all()


def test_projected_english_teaches_stts_before_any_german_sentence(tiny_tagger):
    """k = 0: with a projection the head has seen STTS on English words; without, only the table."""
    from xdomain_nlp.tagging import load_tagger

    model, tokenizer, _ = load_tagger(tiny_tagger)
    upos, stts = load_tagset("upos"), load_tagset("stts")
    ewt = load_corpus("ud:en_ewt:train")
    projected, _ = load_projection("ud_en_stts").apply(ewt.select(sample_sentences(len(ewt), 120, 0)))
    empty = load_corpus("ud:de_gsd:dev").select([])
    plain, _, _ = fit_mapping_head(model, tokenizer, empty, upos, stts, target_column="xpos")
    head, prior, _ = fit_mapping_head(
        model, tokenizer, empty, upos, stts, target_column="xpos", projected=projected, projected_epochs=10
    )
    assert isinstance(head, MappingHead)
    verb = prior.conditional()[upos.index["VERB"]]
    assert verb[stts.index["VVINF"]] > 0.05 and verb[stts.index["VVPP"]] > 0.05  # English verb forms in the prior
    held_out, _ = load_projection("ud_en_stts").apply(load_corpus("ud:en_ewt:dev").select(range(60)))
    feats = word_features(model, tokenizer, held_out)
    gold = target_ids(held_out, stts, PROJECTED_COLUMN, "dev", skip=NO_COUNTERPART)
    keep = gold >= 0
    with torch.no_grad():
        taught = (head(feats.states, feats.source_logits).argmax(-1) == gold)[keep].float().mean()
        table = (plain(feats.states, feats.source_logits).argmax(-1) == gold)[keep].float().mean()
    assert float(taught) > float(table) + 0.05
    assert np.isfinite(prior.counts).all()
