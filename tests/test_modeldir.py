"""The model folder has one owner: one save and one open for every kind, checks included."""

from __future__ import annotations

import json
import shutil

import pytest

from xdomain_nlp.errors import InputError
from xdomain_nlp.modeldir import open_model, read_model_meta
from xdomain_nlp.outputs import OutputError
from xdomain_nlp.relational.biaffine import BiaffineParser
from xdomain_nlp.tagging.network import TokenTagger


def test_every_kind_is_opened_and_saved_by_the_same_code(tiny_tagger, overfit_parser, tmp_path):
    parser_dir, _ = overfit_parser
    for folder, kind in ((tiny_tagger, TokenTagger), (parser_dir, BiaffineParser)):
        model, tokenizer, meta = open_model(folder, kind)
        assert isinstance(model, kind) and meta["task"] == kind.task
        again = model.save(tmp_path / kind.task, tokenizer, meta)
        saved = read_model_meta(again, kind.task)
        assert {k: v for k, v in saved.items() if k != "xdomain_nlp_version"} == {
            k: v for k, v in meta.items() if k != "xdomain_nlp_version"
        }
        with pytest.raises(InputError, match=f"task is {kind.task!r}, expected"):
            open_model(folder, BiaffineParser if kind is TokenTagger else TokenTagger)


def test_a_damaged_weights_file_is_named_in_one_line(tiny_tagger, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_tagger, copy)
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:4096])  # a half-copied file
    with pytest.raises(InputError, match=rf"{weights}: not a readable safetensors file .*copy or download"):
        open_model(copy, TokenTagger)


def test_a_save_replaces_a_model_whole_and_a_failed_one_leaves_it(tiny_tagger, tmp_path):
    model, tokenizer, meta = open_model(tiny_tagger, TokenTagger)
    out = tmp_path / "model"
    model.save(out, tokenizer, {**meta, "note": "first"})
    (out / "stale.txt").write_text("from the first save")
    model.save(out, tokenizer, {**meta, "note": "second"})
    assert read_model_meta(out)["note"] == "second" and not (out / "stale.txt").exists()

    from xdomain_nlp.modeldir import save_model

    def disk_full(folder):
        raise OSError(28, "No space left on device", str(folder / "x"))

    with pytest.raises(OutputError, match=rf"{out}: the disk is full; nothing was written there"):
        save_model(model, out, tokenizer, {**meta, "note": "third"}, also=disk_full)
    assert read_model_meta(out)["note"] == "second"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing half-written left beside it
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError, match="a folder that is not empty and holds no model"):
        model.save(notes, tokenizer, meta)
    assert (notes / "thesis.tex").read_text() == "years of work"


def test_a_resaved_folder_records_the_release_that_wrote_it(tiny_tagger, tmp_path):
    from xdomain_nlp.version import __version__

    model, tokenizer, meta = open_model(tiny_tagger, TokenTagger)
    model.save(tmp_path / "m", tokenizer, {**meta, "xdomain_nlp_version": "0.0.1", "format": 0})
    written = json.loads((tmp_path / "m/xdomain.json").read_text())
    assert written["xdomain_nlp_version"] == __version__ and written["format"] == 1


def test_a_shrunk_tagger_keeps_its_scripts_whole_and_tags_them_as_before(tiny_tagger, tmp_path, capsys):
    from safetensors import safe_open
    from transformers import AutoTokenizer

    import xdomain_nlp
    from xdomain_nlp.cli import main as cli
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.modeldir.shrink import folder_bytes, shrink_model

    german = [list(w) for w in load_corpus("ud:de_gsd:test")["words"][:60]]  # never seen by the training corpus
    exact, small = tmp_path / "exact", tmp_path / "small"
    assert cli(["shrink", str(tiny_tagger), str(exact), "--fp32"]) == 0
    assert cli(["shrink", str(tiny_tagger), str(small)]) == 0  # the scripts of its training corpus, bf16
    printed = capsys.readouterr().out
    assert f"{small}: " in printed and "(scripts: latin), weights stored in bf16" in printed
    shrunk = read_model_meta(small)["shrunk"]
    assert shrunk["pieces_before"] > 250_000 > 2 * shrunk["pieces"] and shrunk["scripts"] == ["LATIN"]
    assert shrunk["corpora"] == ["ud:en_ewt:train"]  # as its xdomain.json names its training data
    assert json.loads((small / "config.json").read_text())["vocab_size"] == shrunk["pieces"]
    assert folder_bytes(small) < folder_bytes(tiny_tagger) / 3 and folder_bytes(exact) < folder_bytes(tiny_tagger) / 1.7
    with safe_open(str(small / "model.safetensors"), framework="pt") as stored:
        assert {str(stored.get_slice(k).get_dtype()) for k in stored.keys()} == {"BF16"}

    words = sorted({w for sentence in german for w in sentence})
    full_tok, small_tok = AutoTokenizer.from_pretrained(tiny_tagger), AutoTokenizer.from_pretrained(small)
    as_pieces = [full_tok.convert_ids_to_tokens(i) for i in full_tok(words, add_special_tokens=False)["input_ids"]]
    assert [small_tok.convert_ids_to_tokens(i) for i in small_tok(words, add_special_tokens=False)["input_ids"]] == (
        as_pieces
    )  # Latin-script text splits into the same pieces

    full = xdomain_nlp.load(tiny_tagger, device="cpu", precision="fp32")
    same = xdomain_nlp.load(exact, device="cpu", precision="fp32")
    bf16 = xdomain_nlp.load(small, device="cpu", precision="fp32")
    assert str(next(bf16.model.parameters()).dtype) == "torch.float32"  # stored in bf16, loaded in fp32
    want = full.predict(german)
    got = same.predict(german)  # the same pieces, the same rows of the table: the same tags
    assert [g["tags"] for g in got] == [w["tags"] for w in want]
    flat = [p for g in got for p in g["probabilities"]]
    assert flat == pytest.approx([p for w in want for p in w["probabilities"]], abs=1e-5)
    tags = [t for g in bf16.predict(german) for t in g["tags"]]
    agree = sum(a == b for a, b in zip(tags, [t for w in want for t in w["tags"]])) / len(tags)
    assert agree > 0.97  # bf16 rounding moves few words
    with pytest.raises(InputError, match="the model to shrink itself"):
        shrink_model(small, small, bf16=True)
    bf16.model.save(tmp_path / "again", bf16.tokenizer, bf16.meta)  # saved again (spaCy's to_disk does this)
    with safe_open(str(tmp_path / "again" / "model.safetensors"), framework="pt") as stored:
        assert {str(stored.get_slice(k).get_dtype()) for k in stored.keys()} == {"BF16"}  # as small as it was


def test_scripts_are_told_apart_letter_by_letter():
    from xdomain_nlp.encoders.trim import scripts_of

    assert scripts_of(["Größe", "naïve", "3,5", "\u2581über", "—"]) == {"LATIN"}
    assert scripts_of(["Москва", "東京", "Zürich"]) == {"CYRILLIC", "CJK", "LATIN"}
