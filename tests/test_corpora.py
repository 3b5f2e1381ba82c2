"""Named corpora: data directory, checksums, and download from a loopback server."""

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest
from conftest import REPO

from xdomain_nlp.data import ChecksumError, corpus_path, load_corpus
from xdomain_nlp.data.corpora import file_checksum


@pytest.fixture
def served(tmp_path):
    """A loopback HTTP server laid out like the official UD repositories (repo/tag/file)."""
    root = tmp_path / "www"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_data_dir_file_is_found_and_verified(data_dir):
    path = corpus_path("ud:de_gsd", "test")
    assert path == data_dir / "ud/UD_German-GSD/de_gsd-ud-test.conllu"
    assert file_checksum(path, "git-blob") == "93e8f95c5cdb44facb7a051525168edc38df4724"


def test_download_into_cache_when_absent(served, data_dir, tmp_path, monkeypatch):
    root, url = served
    release = root / "UD_English-PUD" / "r2.18"
    release.mkdir(parents=True)
    shutil.copy(data_dir / "ud/UD_English-PUD/en_pud-ud-test.conllu", release)
    monkeypatch.setenv("XDOMAIN_NLP_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDOMAIN_NLP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDOMAIN_NLP_UD_BASE_URL", url)
    path = corpus_path("ud:en_pud", "test")
    assert path == tmp_path / "cache/data/ud/UD_English-PUD/en_pud-ud-test.conllu"
    assert len(load_corpus("ud:en_pud:test")) == 1000
    assert not list(path.parent.glob("*.part"))


def test_corrupt_download_is_rejected_and_not_kept(served, data_dir, tmp_path, monkeypatch):
    root, url = served
    release = root / "UD_English-PUD" / "r2.18"
    release.mkdir(parents=True)
    text = (data_dir / "ud/UD_English-PUD/en_pud-ud-test.conllu").read_text()
    (release / "en_pud-ud-test.conllu").write_text(text.replace("NOUN", "VERB", 1))
    monkeypatch.setenv("XDOMAIN_NLP_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDOMAIN_NLP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDOMAIN_NLP_UD_BASE_URL", url)
    with pytest.raises(ChecksumError, match="en_pud-ud-test.conllu"):
        corpus_path("ud:en_pud", "test")
    assert not list((tmp_path / "cache").rglob("*.conllu*"))


def test_unreachable_server_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDOMAIN_NLP_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDOMAIN_NLP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDOMAIN_NLP_UD_BASE_URL", "http://127.0.0.1:9")
    with pytest.raises(ConnectionError, match="could not download http://127.0.0.1:9/UD_English-PUD"):
        corpus_path("ud:en_pud", "test")


def test_modified_file_in_data_dir_fails_checksum(data_dir, tmp_path, monkeypatch):
    copy = tmp_path / "ud/UD_German-GSD/de_gsd-ud-dev.conllu"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((data_dir / "ud/UD_German-GSD/de_gsd-ud-dev.conllu").read_bytes() + b"\n")
    monkeypatch.setenv("XDOMAIN_NLP_DATA", str(tmp_path))
    with pytest.raises(ChecksumError, match=str(copy)):
        corpus_path("ud:de_gsd", "dev")


def test_unknown_names_and_splits():
    with pytest.raises(KeyError, match="known corpora"):
        corpus_path("ud:xx_nope", "test")
    with pytest.raises(KeyError, match="no split 'train'"):
        corpus_path("ud:en_pud", "train")
    with pytest.raises(ValueError, match="needs a split"):
        load_corpus("ud:en_ewt")


def test_a_plain_file_path_loads(data_dir):
    path = Path(data_dir) / "ud/UD_English-PUD/en_pud-ud-test.conllu"
    assert len(load_corpus(str(path))) == 1000


def test_every_named_corpus_has_a_data_card():
    from xdomain_nlp.data.corpora import CORPORA

    for corpus in CORPORA.values():
        assert (REPO / "data_cards" / corpus.card).is_file(), corpus.name


def test_corpus_specs_filter_by_column_values(data_dir):
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()
    test = load_corpus("ud:en_ewt:test")
    reviews = load_corpus("ud:en_ewt:test[genre=reviews,answers]")
    others = load_corpus("ud:en_ewt:test[genre=email,newsgroup,weblog]")
    assert set(reviews["genre"]) == {"reviews", "answers"}
    assert len(reviews) + len(others) == len(test)
    with pytest.raises(ValueError, match="not column=value"):
        load_corpus("ud:en_ewt:test[genre]")
    with pytest.raises(ValueError, match="has no column 'domain'"):
        load_corpus("ud:en_ewt:test[domain=web]")
    with pytest.raises(ValueError, match="no example of ud:en_ewt:test has genre in"):
        load_corpus("ud:en_ewt:test[genre=poetry]")


def test_older_release_beside_head_and_concatenated_sources(data_dir):
    from xdomain_nlp.data import load_corpora

    path = corpus_path("ud:en_gum_r25", "train")
    assert path == data_dir / "ud/UD_English-GUM/r2.5/en_gum-ud-train.conllu"
    gum = load_corpus("ud:en_gum_r25:dev")
    both = load_corpora(["ud:en_pud:test", "ud:en_gum_r25:dev"])
    assert len(both) == 1000 + len(gum) == 1000 + 784
    assert both[1000]["sent_id"] == gum[0]["sent_id"]
    assert len(load_corpora("ud:en_pud:test")) == 1000
    with pytest.raises(ValueError, match="no corpus given"):
        load_corpora([])
