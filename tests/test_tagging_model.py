"""The tagger on real text: windows over long sentences, CLI tagging and evaluation."""

import json

import pytest

from xdomain_nlp.cli import main as cli
from xdomain_nlp.data import load_corpus
from xdomain_nlp.tagging import UPOS, UnknownLabelError, encode_corpus, load_tagger, predict_windows


def test_long_sentence_is_tagged_word_for_word(tiny_tagger):
    import datasets

    model, tokenizer, _ = load_tagger(tiny_tagger)
    ewt = load_corpus("ud:en_ewt:test")
    words = [w for sent in ewt["words"][:40] for w in sent]  # one 'sentence' of several hundred words
    corpus = datasets.Dataset.from_dict({"words": [words, ewt["words"][0]]})
    short = encode_corpus(corpus, tokenizer, label_column=None, label2id=None, max_length=64, overlap=16)
    assert sum(w.sentence == 0 for w in short) > 5  # really split
    pred, prob = predict_windows(model, short, 2, pad_id=tokenizer.pad_token_id)
    assert [len(p) for p in pred] == [len(words), len(ewt["words"][0])]
    assert all(0.0 < p <= 1.0 for p in prob[0])
    whole = encode_corpus(corpus, tokenizer, label_column=None, label2id=None, max_length=512, overlap=64)
    pred_whole, _ = predict_windows(model, whole, 2, pad_id=tokenizer.pad_token_id)
    assert pred[1] == pred_whole[1]  # a short sentence does not depend on the window size


def test_unknown_tag_names_sentence_and_word(tiny_tagger, tmp_path):
    _, tokenizer, _ = load_tagger(tiny_tagger)
    corpus = load_corpus("ud:en_pud:test").select(range(3))
    tags = [list(t) for t in corpus["upos"]]
    tags[2][4] = "NOUNISH"
    corpus = corpus.remove_columns("upos").add_column("upos", tags)
    with pytest.raises(UnknownLabelError, match=r"ud:en_pud:test: n010\d+, word 5 .*'NOUNISH'"):
        encode_corpus(
            corpus, tokenizer, label_column="upos", label2id={t: i for i, t in enumerate(UPOS)}, source="ud:en_pud:test"
        )


def test_cli_evaluate_and_tag(tiny_tagger, tmp_path, capsys, data_dir):
    path = data_dir / "ud/UD_English-PUD/en_pud-ud-test.conllu"
    small = tmp_path / "small.conllu"
    small.write_text("\n\n".join(path.read_text().split("\n\n")[:5]) + "\n\n")
    assert cli(["evaluate", str(tiny_tagger), str(small)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["words"] == sum(len(w) for w in load_corpus(str(small))["words"])
    out = tmp_path / "tagged.conllu"
    assert cli(["tag", str(tiny_tagger), str(small), "-o", str(out)]) == 0
    tagged = load_corpus(str(out))
    assert tagged["words"] == load_corpus(str(small))["words"]
    assert all(t in UPOS for sent in tagged["upos"] for t in sent)


def test_a_file_scored_and_tagged_in_chunks_gets_what_the_whole_corpus_gets(tiny_tagger, tmp_path, capsys):
    import io

    from xdomain_nlp.tagging.stream import evaluate_conllu_file, tag_conllu_file
    from xdomain_nlp.tagging.tagger import Tagger

    gsd = load_corpus("ud:de_gsd:test").select(range(150))
    part = tmp_path / "gsd150.conllu"
    part.write_text("".join("\n".join(lines) + "\n\n" for lines in source_lines_of(gsd)))
    tagger = Tagger.load(tiny_tagger, device="cpu", precision="fp32")
    whole = tagger.evaluate(load_corpus(str(part)))
    chunked = evaluate_conllu_file(tagger, part, chunk=40, progress=False)  # four chunks, the last one short
    assert chunked["words"] == whole["words"] == sum(map(len, gsd["words"]))
    assert chunked["confusion"] == whole["confusion"] and chunked["accuracy"] == whole["accuracy"]

    out = io.StringIO()
    done = tag_conllu_file(tagger, part, out, chunk=40, output_format="jsonl", progress=False)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    tags, _ = tagger.tag_corpus(load_corpus(str(part)))
    assert done["sentences"] == len(rows) == 150 and [r["tags"] for r in rows] == tags

    assert cli(["evaluate", str(tiny_tagger), str(part), "--precision", "fp32"]) == 0  # the CLI streams it
    printed = json.loads(capsys.readouterr().out)
    assert printed["words"] == whole["words"] and printed["accuracy"] == round(whole["accuracy"], 2)


def source_lines_of(corpus) -> list[list[str]]:
    """Each sentence's lines as its file has them."""
    from xdomain_nlp.data.conllu_output import source_lines

    lines = source_lines("ud:de_gsd:test")
    return [lines[line] for line in corpus["line"]]


def test_cli_lists_corpora(capsys):
    assert cli(["corpora"]) == 0
    out = capsys.readouterr().out
    assert "ud:de_gsd" in out and "de_gsd-ud-test.conllu" in out


def test_transformers_pipeline_gives_one_tag_per_word(tiny_tagger):
    """A plain transformers pipeline on the saved tagger, read at word level, tags like the package."""
    from transformers import pipeline

    from xdomain_nlp.tagging import pipeline_word_tags

    model, tokenizer, _ = load_tagger(tiny_tagger)
    pipe = pipeline("token-classification", model=str(tiny_tagger), device="cpu")
    sentences = load_corpus("ud:de_gsd:test")["words"][:8]
    windows = encode_corpus(load_corpus("ud:de_gsd:test").select(range(8)), tokenizer, label_column=None, label2id=None)
    ours, _ = predict_windows(model, windows, 8, pad_id=tokenizer.pad_token_id)
    for words, pred in zip(sentences, ours):
        tags = pipeline_word_tags(pipe, words)
        assert len(tags) == len(words)
        assert tags == [model.labels[p] for p in pred], words
    glued = pipe(" ".join(sentences[0]), aggregation_strategy="first")  # what the pipeline does alone
    assert len(glued) < len(sentences[0])  # neighbouring words with one tag become one "entity"
    with pytest.raises(ValueError, match="without whitespace"):
        pipeline_word_tags(pipe, ["Der Arzt", "soll"])
