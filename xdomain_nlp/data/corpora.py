"""Named corpora: where their files live, how they are checked, and how they are fetched.

A name such as ``ud:en_ewt`` resolves, split by split, to a file found in this order:

1. the data directory named by ``XDOMAIN_NLP_DATA`` (laid out as ``ud/UD_English-EWT/...``),
2. the user cache (``XDOMAIN_NLP_CACHE``, default ``~/.cache/xdomain_nlp``) under ``data/``,
3. a download from the official release files into that cache.

Every file is checked against a pinned checksum. UD files are pinned by their git blob id in the
official repository, which is also known for the files too large to ship here (GSD train).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import datasets

from xdomain_nlp.data.aspects import read_semeval_aspect_terms
from xdomain_nlp.data.catalogue import CORPORA, GITHUB_RAW, Corpus
from xdomain_nlp.data.conllu import read_conllu
from xdomain_nlp.data.sentiment import (
    read_blitzer_negative,
    read_blitzer_positive,
    read_label_first,
    read_semeval_absa,
    read_tab_labelled,
)
from xdomain_nlp.data.user_files import OPTIONS, check_user_source, is_user_source, read_user_source
from xdomain_nlp.errors import InputError, UnknownNameError

DATA_ENV = "XDOMAIN_NLP_DATA"
CACHE_ENV = "XDOMAIN_NLP_CACHE"
UD_BASE_URL_ENV = "XDOMAIN_NLP_UD_BASE_URL"
UD_BASE_URL = "https://raw.githubusercontent.com/UniversalDependencies"
GITHUB_RAW_ENV = "XDOMAIN_NLP_GITHUB_RAW_URL"


class ChecksumError(InputError):
    """A corpus file does not match its pinned checksum."""


def data_dir() -> Path | None:
    """The data directory from ``XDOMAIN_NLP_DATA``, or None when unset."""
    value = os.environ.get(DATA_ENV)
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The user cache for converted encoders and downloaded corpora."""
    value = os.environ.get(CACHE_ENV)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "xdomain_nlp"


def file_checksum(path: Path, kind: str) -> str:
    """Hex digest of a file as ``kind`` ("git-blob" or "sha256") defines it."""
    if kind == "git-blob":
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    elif kind == "sha256":
        digest = hashlib.sha256()
    else:
        raise InputError(f"unknown checksum kind {kind!r} (expected git-blob or sha256)")
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_VERIFIED: set[tuple[str, float, int]] = set()


def verify(path: Path, checksum: str) -> None:
    """Raise `ChecksumError` naming the file when it differs from its pinned checksum."""
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key in _VERIFIED:
        return
    kind, _, expected = checksum.partition(":")
    actual = file_checksum(path, kind)
    if actual != expected:
        raise ChecksumError(
            f"{path}: checksum mismatch ({kind} {actual}, pinned {expected}); the file is not the "
            "release this corpus name refers to. Replace it, or read it with read_conllu(path)."
        )
    _VERIFIED.add(key)


def download(url: str, dest: Path, checksum: str, timeout: float = 60.0) -> Path:
    """Fetch ``url`` to ``dest`` atomically, checking it before it takes the final name."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False, suffix=".part") as tmp:
        tmp_path = Path(tmp.name)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, tmp)
        except (urllib.error.URLError, OSError) as err:
            tmp_path.unlink(missing_ok=True)
            raise ConnectionError(f"could not download {url}: {err}") from err
    try:
        verify(tmp_path, checksum)
    except ChecksumError as err:
        tmp_path.unlink(missing_ok=True)
        raise ChecksumError(f"download of {url} failed its checksum: {err}") from None
    tmp_path.replace(dest)
    return dest


def get_corpus(name: str) -> Corpus:
    try:
        return CORPORA[name]
    except KeyError:
        known = ", ".join(sorted(CORPORA))
        raise UnknownNameError(f"unknown corpus {name!r}; known corpora: {known}") from None


def corpus_path(name: str, split: str, *, allow_download: bool = True) -> Path:
    """The checked local file of one split of a named corpus, downloading it if needed."""
    corpus = get_corpus(name)
    if split not in corpus.splits:
        raise UnknownNameError(f"corpus {name!r} has no split {split!r}; it has {sorted(corpus.splits)}")
    entry = corpus.splits[split]
    folders = [d for d in (data_dir(), cache_dir() / "data") if d is not None]
    for folder in folders:
        path = folder / entry.relpath
        if path.is_file():
            verify(path, entry.checksum)
            return path
    searched = "; searched " + ", ".join(str(f) for f in folders)
    hint = f"put the file under a folder named by {DATA_ENV}"
    if not allow_download or not (entry.url_path or entry.url):
        why = "not downloaded (allow_download=False)" if entry.url_path or entry.url else "it has no download"
        raise FileNotFoundError(f"{name} {split}: no {entry.relpath}{searched}; {why}; {hint}")
    base = os.environ.get(UD_BASE_URL_ENV, UD_BASE_URL).rstrip("/")
    url = entry.url or f"{base}/{entry.url_path}"
    if url.startswith(GITHUB_RAW) and os.environ.get(GITHUB_RAW_ENV):  # a mirror (or a test server)
        url = os.environ[GITHUB_RAW_ENV].rstrip("/") + url[len(GITHUB_RAW) :]
    try:
        return download(url, cache_dir() / "data" / entry.relpath, entry.checksum)
    except ConnectionError as err:
        raise ConnectionError(f"{name} {split}: no {entry.relpath}{searched}; {err}; {hint}") from None


READERS = {
    "conllu": read_conllu,
    "tab_labelled": read_tab_labelled,
    "label_first": read_label_first,
    "semeval_absa": read_semeval_absa,
    "semeval_aspect_terms": read_semeval_aspect_terms,
    "blitzer_positive": read_blitzer_positive,
    "blitzer_negative": read_blitzer_negative,
}


def split_filters(spec: str) -> tuple[str, dict[str, set[str]]]:
    """``ud:en_ewt:train[genre=email,weblog;...]`` -> the corpus part and ``{column: values}``."""
    if not (spec.endswith("]") and "[" in spec):
        return spec, {}
    name, _, rest = spec[:-1].partition("[")
    filters = {}
    for item in rest.split(";"):
        column, _, values = item.partition("=")
        if not column or not values:
            raise InputError(f"{spec!r}: filter {item!r} is not column=value[,value]")
        filters[column] = set(values.split(","))
    return name, filters


def apply_filters(data: datasets.Dataset, filters: dict[str, set[str]], name: str) -> datasets.Dataset:
    """Keep the examples of corpus ``name`` whose ``column`` value is one of the given values."""
    for column, values in filters.items():
        if column not in data.column_names:
            raise InputError(f"{name} has no column {column!r} to filter on (it has {data.column_names})")
        data = data.filter(lambda row, c=column, v=values: row[c] in v)
        if len(data) == 0:
            raise InputError(f"no example of {name} has {column} in {sorted(values)}")
    return data


def parse_spec(spec: str) -> tuple[str, dict[str, str], dict[str, set[str]]]:
    """``reviews.csv[text_column=review;stars=4,5]`` -> name, reader options, column filters."""
    name, bracket = split_filters(spec)
    options = {k: ",".join(sorted(v)) for k, v in bracket.items() if k in OPTIONS}
    filters = {k: v for k, v in bracket.items() if k not in OPTIONS}
    return name, options, filters


def check_corpus_spec(spec: str) -> str | None:
    """What is wrong with a corpus spec, without reading the corpus (None when it resolves).

    Checks the bracket syntax, that a named corpus and split exist, and that a user file or folder
    exists with a known format and options, so that a typo in an eval corpus is reported before
    training rather than after it."""
    try:
        name, options, _ = parse_spec(spec)
    except ValueError as error:
        return str(error)
    if name in CORPORA:
        return f"{spec!r} needs a split, e.g. {name}:{next(iter(CORPORA[name].splits))}"
    corpus, _, split = name.rpartition(":")
    if corpus in CORPORA:
        if split not in CORPORA[corpus].splits:
            return f"corpus {corpus!r} has no split {split!r}; it has {', '.join(sorted(CORPORA[corpus].splits))}"
        if options:
            return f"{spec!r}: {', '.join(options)} only apply to a user's own files"
        return None
    if is_user_source(name) or Path(name).suffix or "/" in name:
        return check_user_source(name, options)
    return f"{spec!r} is neither a named corpus split ({', '.join(sorted(CORPORA))}) nor a file"


def load_corpora(specs: str | Sequence[str], limit: int = 0) -> datasets.Dataset:
    """One corpus spec, or several concatenated in order (``[ud:en_ewt:train, ud:en_gum_r25:train]``);
    with ``limit``, only the first ``limit`` sentences (a recipe's ``train_limit``/``eval_limit``)."""
    if isinstance(specs, str):
        corpus = load_corpus(specs)
    elif not specs:
        raise InputError("no corpus given: expected a corpus spec or a non-empty list of them")
    else:
        parts = [load_corpus(s) for s in specs]
        if len({tuple(sorted(p.column_names)) for p in parts}) > 1:
            raise InputError(f"{list(specs)}: cannot join tagged corpora and labelled sentences in one list")
        corpus = datasets.concatenate_datasets(parts)
    return corpus.select(range(min(limit, len(corpus)))) if limit else corpus


def load_corpus(spec: str) -> datasets.Dataset:
    """A named corpus split (``ud:en_ewt:train``, ``sentiment:yelp:all``), a user's file or folder
    (CoNLL-U, TSV/CSV, JSONL, plain text, ``save_to_disk``) or a Hub dataset (``hf:owner/name:split``),
    optionally with reader options and column filters in brackets: ``ud:en_ewt:train[genre=email]``,
    ``reviews.csv[text_column=review;label_column=stars]``.

    Example (named corpora are read from ``$XDOMAIN_NLP_DATA``, and downloaded when online)::

        >>> ewt = load_corpus("ud:en_ewt:dev")
        >>> len(ewt), ewt[0]["words"][:4], ewt[0]["upos"][:4]
        (2001, ['From', 'the', 'AP', 'comes'], ['ADP', 'DET', 'PROPN', 'VERB'])
        >>> len(load_corpus("ud:en_ewt:dev[genre=email]"))
        523
    """
    name, options, filters = parse_spec(spec)
    if filters:
        return apply_filters(load_corpus(_with_options(name, options)), filters, name)
    problem = check_corpus_spec(spec)
    if problem:
        raise FileNotFoundError(problem) if "does not exist" in problem else InputError(problem)
    corpus, _, split = name.rpartition(":")
    if corpus in CORPORA:
        path = corpus_path(corpus, split)
        return READERS[CORPORA[corpus].splits[split].format](path)
    return read_user_source(name, options)


def _with_options(name: str, options: dict[str, str]) -> str:
    return f"{name}[{';'.join(f'{k}={v}' for k, v in options.items())}]" if options else name
