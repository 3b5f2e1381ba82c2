"""Corpora: CoNLL-U in and out, named corpora, users' own files, data directory, cache and download."""

from xdomain_nlp.data.conllu import CorpusFormatError, iter_conllu, read_conllu, surface_tokens
from xdomain_nlp.data.conllu_output import write_conllu, write_jsonl
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
    parse_spec,
)
from xdomain_nlp.data.user_files import read_user_source

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
    "parse_spec",
    "read_conllu",
    "read_user_source",
    "surface_tokens",
    "write_conllu",
    "write_jsonl",
]
