"""Corpora: CoNLL-U reading, named corpora, data directory, cache and download."""

from xdomain_nlp.data.conllu import CorpusFormatError, iter_conllu, read_conllu, surface_tokens
from xdomain_nlp.data.corpora import (
    CORPORA,
    ChecksumError,
    cache_dir,
    check_corpus_spec,
    corpus_path,
    data_dir,
    download,
    load_corpora,
    load_corpus,
)

__all__ = [
    "CORPORA",
    "ChecksumError",
    "CorpusFormatError",
    "cache_dir",
    "check_corpus_spec",
    "corpus_path",
    "data_dir",
    "download",
    "iter_conllu",
    "load_corpora",
    "load_corpus",
    "read_conllu",
    "surface_tokens",
]
