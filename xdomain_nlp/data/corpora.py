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
from dataclasses import dataclass, field
from pathlib import Path

import datasets

from xdomain_nlp.data.conllu import read_conllu

DATA_ENV = "XDOMAIN_NLP_DATA"
CACHE_ENV = "XDOMAIN_NLP_CACHE"
UD_BASE_URL_ENV = "XDOMAIN_NLP_UD_BASE_URL"
UD_BASE_URL = "https://raw.githubusercontent.com/UniversalDependencies"


class ChecksumError(ValueError):
    """A corpus file does not match its pinned checksum."""


@dataclass(frozen=True)
class CorpusFile:
    relpath: str  # path under the data directory
    checksum: str  # "git-blob:<sha1>" or "sha256:<hex>"
    url_path: str = ""  # path under the release's base URL; empty when there is no download


@dataclass(frozen=True)
class Corpus:
    name: str
    description: str
    license: str
    card: str  # file in data_cards/
    splits: dict[str, CorpusFile] = field(default_factory=dict)


def _ud(repo: str, tag: str, prefix: str, blobs: dict[str, str]) -> dict[str, CorpusFile]:
    return {
        split: CorpusFile(
            relpath=f"ud/{repo}/{prefix}-ud-{split}.conllu",
            checksum=f"git-blob:{blob}",
            url_path=f"{repo}/{tag}/{prefix}-ud-{split}.conllu",
        )
        for split, blob in blobs.items()
    }


CORPORA: dict[str, Corpus] = {
    c.name: c
    for c in [
        Corpus(
            "ud:en_ewt",
            "English Web Treebank (weblogs, newsgroups, emails, reviews, answers), UD r2.16",
            "CC BY-SA 4.0",
            "ud_en_ewt.md",
            _ud(
                "UD_English-EWT",
                "r2.16",
                "en_ewt",
                {
                    "train": "34731d23bafeeff233fdcee18ffc0254b1aa0e28",
                    "dev": "a994b6990643429070ecc6e236d26ad6a04bfefb",
                    "test": "c59667960ae967636606f47bc35f132a5557ad39",
                },
            ),
        ),
        Corpus(
            "ud:de_gsd",
            "German GSD (news, reviews, wiki), UD r2.16",
            "CC BY-SA 4.0",
            "ud_de_gsd.md",
            _ud(
                "UD_German-GSD",
                "r2.16",
                "de_gsd",
                {
                    "train": "9d2f5124449fc1b4ca34be17857c16e84a36bac2",
                    "dev": "27d148550b267edfbfbf832759d6dde3b6d4488c",
                    "test": "93e8f95c5cdb44facb7a051525168edc38df4724",
                },
            ),
        ),
        Corpus(
            "ud:en_pud",
            "English PUD (news and Wikipedia translations, CoNLL 2017 test set), UD r2.18",
            "CC BY-SA 3.0",
            "ud_en_pud.md",
            _ud("UD_English-PUD", "r2.18", "en_pud", {"test": "f0288b7292bdfebe3eab1bcd012666f5fd83adf0"}),
        ),
        Corpus(
            "ud:en_gum",
            "English GUM (16 genres), UD r2.16",
            "CC BY-NC-SA 4.0 (non-commercial)",
            "ud_en_gum.md",
            _ud(
                "UD_English-GUM",
                "r2.16",
                "en_gum",
                {
                    "train": "e159dc6ad8c6cc4d0639fa5062ddf00cb4f14349",
                    "dev": "c302cf2a8dee9604b33b6f215a0c23efe6fc5971",
                    "test": "d2efc22fa870b39d17475fefca631e2ba726b523",
                },
            ),
        ),
    ]
}


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
        raise ValueError(f"unknown checksum kind {kind!r} (expected git-blob or sha256)")
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
        raise KeyError(f"unknown corpus {name!r}; known corpora: {known}") from None


def corpus_path(name: str, split: str, *, allow_download: bool = True) -> Path:
    """The checked local file of one split of a named corpus, downloading it if needed."""
    corpus = get_corpus(name)
    if split not in corpus.splits:
        raise KeyError(f"corpus {name!r} has no split {split!r}; it has {sorted(corpus.splits)}")
    entry = corpus.splits[split]
    candidates = [d / entry.relpath for d in (data_dir(), cache_dir() / "data") if d is not None]
    for path in candidates:
        if path.is_file():
            verify(path, entry.checksum)
            return path
    if not allow_download or not entry.url_path:
        raise FileNotFoundError(
            f"{name} {split}: no file at {' or '.join(map(str, candidates))}; set {DATA_ENV} to a folder holding it"
        )
    base = os.environ.get(UD_BASE_URL_ENV, UD_BASE_URL).rstrip("/")
    return download(f"{base}/{entry.url_path}", cache_dir() / "data" / entry.relpath, entry.checksum)


def load_corpus(spec: str) -> datasets.Dataset:
    """Load ``name:split`` (``ud:en_ewt:train``) or a CoNLL-U file path."""
    if spec in CORPORA:
        raise ValueError(f"{spec!r} needs a split, e.g. {spec}:test")
    name, _, split = spec.rpartition(":")
    if name in CORPORA:
        return read_conllu(corpus_path(name, split))
    path = Path(spec)
    if path.is_file():
        return read_conllu(path)
    raise ValueError(f"{spec!r} is neither a named corpus split ({', '.join(CORPORA)}) nor a file")
