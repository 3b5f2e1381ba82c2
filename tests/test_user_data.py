"""A user's own data: tables, JSON lines, plain text, saved and Hub datasets, and CoNLL-U that keeps
everything on the way out."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
import spacy
from hub_server import start_hub

from xdomain_nlp.cli import main as cli
from xdomain_nlp.data import corpus_path, iter_conllu, load_corpora, load_corpus
from xdomain_nlp.data.conllu_output import source_lines, write_conllu

CRAFTED = """# newdoc id = d1
# sent_id = s1
# text = Wir gehen im Park.
# note = a comment the reader has no field for
1\tWir\twir\tPRON\tPPER\tCase=Nom\t2\tnsubj\t_\t_
2\tgehen\tgehen\tVERB\tVVFIN\t_\t0\troot\t_\t_
3-4\tim\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No
3\tin\tin\tADP\tAPPR\t_\t5\tcase\t5:case\t_
4\tdem\tder\tDET\tART\t_\t5\tdet\t_\t_
4.1\tgefahren\tfahren\tVERB\t_\t_\t_\t_\t2:conj\t_
5\tPark\tPark\tNOUN\tNN\t_\t2\tobl\t_\tSpaceAfter=No
6\t.\t.\tPUNCT\t$.\t_\t2\tpunct\t_\t_

"""


def test_tables_with_and_without_a_header(tmp_path):
    (tmp_path / "a.tsv").write_text('text\tlabel\nGreat food\tpositive\nAwful "service\tNEG\n')
    a = load_corpus(str(tmp_path / "a.tsv"))
    assert a["text"] == ["Great food", 'Awful "service'] and a["label"] == [1, 0] and a["line"] == [2, 3]
    (tmp_path / "b.tsv").write_text("1\tGreat food\n0\tAwful\n")  # no header: the label column is found
    assert load_corpus(str(tmp_path / "b.tsv"))["label"] == [1, 0]
    (tmp_path / "c.csv").write_text('stars,review\n5,"Great, really"\n1,"bad\nvery bad"\n2,meh\n')
    c = load_corpus(f"{tmp_path}/c.csv[text_column=review;label_column=stars;negative=1,2;positive=4,5]")
    assert c["text"] == ["Great, really", "bad\nvery bad", "meh"] and c["label"] == [1, 0, 0]
    assert c["line"] == [2, 3, 5]  # the line each row starts on, a quoted newline included
    (tmp_path / "d.csv").write_text("x,Good\ny,Bad\n")
    d = load_corpus(f"{tmp_path}/d.csv[header=no;text_column=2;label_column=none]")
    assert d["text"] == ["Good", "Bad"] and d["label"] == [-1, -1]


def test_jsonl_sentences_and_tagged_words(tmp_path):
    (tmp_path / "s.jsonl").write_text('{"text": "ok", "label": "positive", "id": "r1"}\n\n{"text": "no", "label": 0}\n')
    s = load_corpus(str(tmp_path / "s.jsonl"))
    assert s["label"] == [1, 0] and s["id"] == ["r1", "3"]
    (tmp_path / "t.jsonl").write_text('{"words": ["Das", "ist"], "upos": ["PRON", "AUX"]}\n{"tokens": ["Ja"]}\n')
    t = load_corpus(str(tmp_path / "t.jsonl"))
    assert t["words"] == [["Das", "ist"], ["Ja"]] and t["upos"] == [["PRON", "AUX"], ["_"]]
    both = load_corpora([str(tmp_path / "t.jsonl"), "ud:de_gsd:test"])  # joins a treebank: same columns
    assert len(both) == 2 + len(load_corpus("ud:de_gsd:test"))


def test_plain_text_is_split_by_spacys_tokenizer_for_the_language(tmp_path):
    (tmp_path / "s.txt").write_text("Das ist gut, oder?\n\nWir gehen z.B. heim.\n")
    data = load_corpus(f"{tmp_path}/s.txt[lang=de]")
    tokenizer = spacy.blank("de").tokenizer
    assert data["words"][1] == [t.text for t in tokenizer("Wir gehen z.B. heim.")]
    assert data["words"][0] == ["Das", "ist", "gut", ",", "oder", "?"] and data["line"] == [1, 3]


def test_a_saved_dataset_folder_reads_like_the_corpus(tmp_path):
    yelp = load_corpus("sentiment:yelp:all").select(range(6))
    yelp.save_to_disk(str(tmp_path / "one"))
    again = load_corpus(str(tmp_path / "one"))
    assert again["text"] == yelp["text"] and again["label"] == yelp["label"]
    gsd = load_corpus("ud:de_gsd:test").select(range(3))
    import datasets

    datasets.DatasetDict({"test": gsd, "dev": gsd}).save_to_disk(str(tmp_path / "dict"))
    assert load_corpus(f"{tmp_path}/dict[split=test]")["words"] == gsd["words"]


def test_a_hub_dataset_loads_through_the_hub_and_then_from_the_cache(tmp_path):
    server, state, url = start_hub()
    state.datasets["someone/reviews"] = {
        "README.md": b"---\nconfigs:\n- config_name: default\n  data_files:\n"
        b"  - split: test\n    path: test.csv\n---\n",
        "test.csv": b"text,label\nGreat pasta,positive\nCold soup,negative\n",
    }
    env = {**os.environ, "HF_ENDPOINT": url, "HF_HOME": str(tmp_path / "hf")}
    code = "import json; from xdomain_nlp.data import load_corpus; d = load_corpus('hf:someone/reviews:test'); "
    code += "print(json.dumps([list(d['text']), list(d['label'])]))"
    online = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert json.loads(online.stdout) == [["Great pasta", "Cold soup"], [1, 0]], online.stderr[-2000:]
    assert any(r.startswith("GET /datasets/someone/reviews/resolve/") for r in state.requests)
    server.shutdown()
    server.server_close()  # the Hub is gone: the cache answers, without a minute of retries
    cached = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(cached.stdout) == [["Great pasta", "Cold soup"], [1, 0]], cached.stderr[-2000:]


@pytest.mark.parametrize("spec", ["ud:en_ewt:test", "ud:de_gsd:test", "crafted"])
def test_conllu_comes_back_byte_for_byte(tmp_path, spec):
    if spec == "crafted":
        (tmp_path / "c.conllu").write_text(CRAFTED)
        spec = str(tmp_path / "c.conllu")
        path = tmp_path / "c.conllu"
    else:
        name, split = spec.rsplit(":", 1)
        path = corpus_path(name, split)
    out = io.StringIO()
    write_conllu(out, load_corpus(spec), lines_by_start=source_lines(spec))
    assert out.getvalue().encode() == path.read_bytes()


def test_tag_keeps_every_line_and_column_of_the_input(tmp_path, tiny_tagger):
    (tmp_path / "c.conllu").write_text(CRAFTED.replace("\tPRON\t", "\tX\t"))
    cli(["tag", str(tiny_tagger), str(tmp_path / "c.conllu"), "-o", str(tmp_path / "out.conllu")])
    got, given = (tmp_path / "out.conllu").read_text().split("\n"), (tmp_path / "c.conllu").read_text().split("\n")
    assert len(got) == len(given)
    for a, b in zip(got, given):
        cells_a, cells_b = a.split("\t"), b.split("\t")
        if len(cells_a) == 10 and cells_a[0].isdigit():  # a word line: only UPOS may change
            assert cells_a[:3] + cells_a[4:] == cells_b[:3] + cells_b[4:] and cells_a[3] != "_"
        else:
            assert a == b  # comments, the multiword token, the empty node
    assert [row["upos"][0] for row in iter_conllu(tmp_path / "out.conllu")] != ["X"]


def test_tag_plain_text_to_json_lines(tmp_path, tiny_tagger):
    (tmp_path / "s.txt").write_text("The soup was tasty.\nIt's fine!\n")
    cli(["tag", str(tiny_tagger), str(tmp_path / "s.txt"), "--lang", "en", "--format", "jsonl", "-o", "o.jsonl"])
    rows = [json.loads(line) for line in open("o.jsonl")]
    os.remove("o.jsonl")
    assert [r["words"] for r in rows] == [["The", "soup", "was", "tasty", "."], ["It", "'s", "fine", "!"]]
    assert all(len(r["tags"]) == len(r["words"]) == len(r["probabilities"]) for r in rows)
    assert rows[0]["tag_set"] == "upos" and all(0 < p <= 1 for r in rows for p in r["probabilities"])


def test_a_user_sentiment_file_evaluates_like_the_named_set(tmp_path):
    """The same sentences by name and from a user's TSV give the same rows to train on."""
    yelp = load_corpus("sentiment:yelp:all").select(range(20))
    lines = ["review\tsentiment"] + [f"{t}\t{['bad', 'good'][y]}" for t, y in zip(yelp["text"], yelp["label"])]
    (tmp_path / "y.tsv").write_text("\n".join(lines) + "\n")
    mine = load_corpus(f"{tmp_path}/y.tsv[text_column=review;label_column=sentiment;negative=bad;positive=good]")
    assert mine["text"] == yelp["text"] and mine["label"] == yelp["label"]
