from pathlib import Path

import pytest

from xdomain_nlp.data import CorpusFormatError, load_corpus, read_conllu, surface_tokens
from xdomain_nlp.data.conllu import genre_from_sent_id

GOOD = (
    "# newdoc id = doc1\n"
    "# sent_id = weblog-x-0001\n"
    "# text = Ich gehe im Park.\n"
    "1\tIch\tich\tPRON\tPPER\t_\t2\tnsubj\t_\t_\n"
    "2\tgehe\tgehen\tVERB\tVVFIN\t_\t0\troot\t_\t_\n"
    "3-4\tim\t_\t_\t_\t_\t_\t_\t_\t_\n"
    "3\tin\tin\tADP\tAPPR\t_\t5\tcase\t_\t_\n"
    "4\tdem\tder\tDET\tART\t_\t5\tdet\t_\t_\n"
    "5\tPark\tPark\tNOUN\tNN\t_\t2\tobl\t_\tSpaceAfter=No\n"
    "5.1\tging\tgehen\tVERB\t_\t_\t_\t_\t2:conj\t_\n"
    "6\t.\t.\tPUNCT\t$.\t_\t2\tpunct\t_\t_\n"
    "\n"
)


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "x.conllu"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_reads_words_multiword_tokens_and_empty_nodes(tmp_path):
    ds = read_conllu(write(tmp_path, GOOD))
    row = ds[0]
    assert row["words"] == ["Ich", "gehe", "in", "dem", "Park", "."]
    assert row["upos"] == ["PRON", "VERB", "ADP", "DET", "NOUN", "PUNCT"]
    assert row["heads"] == [2, 0, 5, 5, 2, 2]
    assert (row["mwt_start"], row["mwt_end"], row["mwt_form"]) == ([2], [3], ["im"])
    assert (row["empty_ids"], row["empty_forms"]) == (["5.1"], ["ging"])
    assert surface_tokens(row) == ["Ich", "gehe", "im", "Park", "."]
    assert (row["doc_id"], row["genre"], row["text"]) == ("doc1", "weblog", "Ich gehe im Park.")


@pytest.mark.parametrize(
    ("broken", "line", "message"),
    [
        (GOOD.replace("2\tgehe\tgehen\tVERB\tVVFIN\t_\t0", "2\tgehe\tgehen\tVERB\tVVFIN\t0"), 5, "10 tab-separated"),
        (GOOD.replace("3\tin", "7\tin"), 7, "out of order"),
        (GOOD.replace("5.1\tging", "5x\tging"), 10, "bad token id"),
        (GOOD.replace("\t5\tcase", "\tfive\tcase"), 7, "bad head"),
        (GOOD.replace("\t2\tobl", "\t9\tobl"), 12, "beyond the sentence"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, broken, line, message):
    path = write(tmp_path, broken)
    with pytest.raises(CorpusFormatError, match=message) as err:
        read_conllu(path)
    assert str(err.value).startswith(f"{path}:{line}:")


def test_non_utf8_names_the_line(tmp_path):
    path = write(tmp_path, GOOD.encode().replace(b"Park\tPark", b"P\xe4rk\tPark"))
    with pytest.raises(CorpusFormatError, match=rf"{path}:9: not valid UTF-8"):
        read_conllu(path)


def test_real_ewt_test_matches_release_counts(data_dir):
    ds = load_corpus("ud:en_ewt:test")
    assert len(ds) == 2077
    assert sum(len(w) for w in ds["words"]) == 25094
    assert sum(len(m) for m in ds["mwt_start"]) == 354
    assert sum(len(e) for e in ds["empty_ids"]) == 2
    assert set(ds["genre"]) == {"answers", "email", "newsgroup", "reviews", "weblog"}


def test_real_gsd_and_gum(data_dir):
    gsd = load_corpus("ud:de_gsd:test")
    assert (len(gsd), sum(len(w) for w in gsd["words"])) == (977, 16499)
    assert sum(len(m) for m in gsd["mwt_start"]) == 274
    gum = load_corpus("ud:en_gum:dev")
    assert "academic" in set(gum["genre"])


def test_genres():
    assert genre_from_sent_id("email-enronsent01_01-0002") == "email"
    assert genre_from_sent_id("GUM_interview_cyclone-12") == "interview"
    assert genre_from_sent_id("train-s12") == ""
