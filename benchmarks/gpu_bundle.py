"""What the GPU check carries to a machine with no network, in the 64 MiB a device call takes.

``python benchmarks/gpu_check.py prepare`` calls `build_bundle`, which writes ``.gpu_check/``:

* ``encoder.e5s1``: the embedded multilingual-e5-small in its own 4-bit file format, its
  vocabulary cut to the pieces the check's texts use. The 4-bit blocks are copied byte for byte
  (a row of the embedding table is 12 whole blocks), so the device converts it with the package's
  own `convert_e5s1` into exactly the weights a user gets, less the unused rows (the full file is
  69 MB, the bf16 transformers model 51 MB even trimmed).
* ``data.tar.xz``: a data directory with the named corpora the check reads (whole files, so their
  pinned checksums hold) and the first sentences of EWT train as a user file.
* ``site.tar.xz``: the Python 3.12 packages the device image lacks (spaCy and its stack,
  ``datasets``, ``seqeval``, ``vaderSentiment``), installed here with a Python 3.12 and their
  compiled libraries stripped of debug symbols (spaCy's wheel is 35 MB, 18 MB of it installed).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

TRAIN_FILE = "ewt-train-head.conllu"
# Named corpora the check reads, by split: copied whole (checksums pinned by the package).
NAMED = {
    "ud:en_ewt": ["train", "test"],  # train: the main job as shipped
    "ud:de_gsd": ["dev", "test"],
    "ud:en_pud": ["test"],
    "sentiment:yelp": ["all"],
    "sentiment:imdb": ["all"],
    "sentiment:sst2": ["train", "dev", "test"],
    "sentiment:semeval14_restaurants": ["train", "test"],
    "absa:semeval14_restaurants": ["train", "test"],
    "sentiment:blitzer_kitchen": ["positive", "negative"],
    "sentiment:blitzer_electronics": ["positive", "negative"],
}
BLITZER_LIMIT = 100  # reviews per Blitzer file the check reads (the vocabulary covers just those)
# The device image's Python 3.12 lacks these (versions as pinned here; ../shared/GPU.md lists the image).
PACKAGES = [
    "spacy==3.8.18", "thinc==8.3.14", "blis==1.3.4", "cymem==2.0.16", "preshed==3.0.15", "murmurhash==1.0.16",
    "srsly==2.5.6", "wasabi==1.1.3", "weasel==1.0.1", "catalogue==2.0.10", "confection==1.3.4",
    "spacy-legacy==3.0.12", "spacy-loggers==1.0.5", "cloudpathlib==0.26.0", "smart_open==9.0.4",
    "pydantic==2.14.4", "pydantic_core==2.50.5", "annotated-types==0.8.0", "typing-inspection==0.4.5",
    "datasets==5.2.0", "dill==0.4.1", "multiprocess==0.70.19", "vaderSentiment==3.3.2",
]  # fmt: skip
SDIST_ONLY = ["seqeval==1.2.2"]  # pure Python, published as a source archive: built into a wheel here
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64"]  # fmt: skip


def first_sentences(path: Path, n: int) -> str:
    """The first ``n`` sentences of a CoNLL-U file, lines untouched."""
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    return "\n\n".join(b for b in blocks[:n] if b.strip()) + "\n\n"


def write_data(out: Path, sentences: int) -> list[str]:
    """The check's data directory under ``out/data`` (and the EWT head); returns every text in it."""
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.data.catalogue import CORPORA
    from xdomain_nlp.data.corpora import corpus_path

    data = out / "data"
    for name, splits in NAMED.items():
        for split in splits:
            dest = data / CORPORA[name].splits[split].relpath
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus_path(name, split, allow_download=False), dest)
    (data / TRAIN_FILE).write_text(first_sentences(corpus_path("ud:en_ewt", "train"), sentences), encoding="utf-8")
    texts: list[str] = []
    for name, splits in NAMED.items():
        for split in splits:
            corpus = load_corpus(f"{name}:{split}")
            if "blitzer" in name:
                corpus = corpus.select(range(min(BLITZER_LIMIT, len(corpus))))
            if "words" in corpus.column_names:
                texts += [w for sent in corpus["words"] for w in sent]
            if "text" in corpus.column_names:
                texts += list(corpus["text"])
    texts += [w for sent in load_corpus(str(data / TRAIN_FILE))["words"] for w in sent]
    return texts


def needed_pieces(texts: Iterable[str]) -> list[int]:
    """Piece ids the embedded tokenizer uses for the texts, their words as spaCy splits them,
    and the e5 prefix (every way the package tokenizes a text)."""
    from xdomain_nlp.encoders import load_tokenizer
    from xdomain_nlp.encoders.trim import used_piece_ids
    from xdomain_nlp.tagging.tagger import split_words

    texts = sorted(set(texts))
    words = {w for sent in split_words(texts, "en") for w in sent} | {w for t in texts for w in t.split()}
    tokenizer = load_tokenizer("embedded:multilingual-e5-small")
    return sorted(used_piece_ids(tokenizer, [*texts, *words, "query:", "passage:", *("query: " + t for t in texts)]))


def trim_e5s1(src: Path, dest: Path, keep: list[int]) -> int:
    """Write ``src`` (an E5S1 file) with only the pieces ``keep`` (sorted ids); returns the piece count.

    The layout is the one `xdomain_nlp.encoders.e5s1.read_e5s1` reads; every tensor keeps its
    bytes, the word-embedding table only its kept rows."""
    data = src.read_bytes()
    pos = 4 + 4 + 7 * 4 + 4 + 4  # magic, version, header, eps, reserved
    hidden = struct.unpack_from("<i", data, 8)[0]
    head = bytearray(data[:pos])
    struct.pack_into("<i", head, 8 + 4 * 4, len(keep))  # the header's vocab size
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    blob_len = struct.unpack_from("<Q", data, pos + 20)[0]
    offsets = struct.unpack_from(f"<{n + 1}I", data, pos + 28)
    scores_at = pos + 28 + 4 * (n + 1)
    scores = struct.unpack_from(f"<{n}f", data, scores_at)
    blob_at = scores_at + 4 * n
    pieces = [data[blob_at + offsets[i] : blob_at + offsets[i + 1]] for i in keep]
    remap = {old: new for new, old in enumerate(keep)}
    new_offsets = [0]
    for p in pieces:
        new_offsets.append(new_offsets[-1] + len(p))
    out = bytearray(head)
    out += struct.pack("<5i", len(keep), remap[bos], remap[eos], remap[pad], remap[unk])
    out += struct.pack("<Q", new_offsets[-1]) + struct.pack(f"<{len(keep) + 1}I", *new_offsets)
    out += struct.pack(f"<{len(keep)}f", *(scores[i] for i in keep)) + b"".join(pieces)
    pos = blob_at + blob_len
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    out += data[pos : pos + 8 + norm_bytes]  # the normaliser map, as it is
    pos += 8 + norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    entries = []
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len]
        kind = data[pos + 2 + name_len]
        numel, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 3 + name_len)
        pos += 3 + name_len + 20
        raw = data[offset : offset + nbytes]
        if name == b"emb.word":
            row = nbytes // (numel // hidden)  # bytes per row: 12 4-bit blocks, or 4 x hidden
            raw = b"".join(raw[i * row : (i + 1) * row] for i in keep)
            numel = len(keep) * hidden
        entries.append((name, kind, numel, raw))
    directory = sum(2 + len(name) + 1 + 20 for name, _, _, _ in entries)
    offset, starts = len(out) + 4 + directory, []
    for _, _, _, raw in entries:  # each tensor at a 32-byte boundary
        offset += -offset % 32
        starts.append(offset)
        offset += len(raw)
    out += struct.pack("<i", len(entries))
    for (name, kind, numel, raw), start in zip(entries, starts):
        out += struct.pack("<H", len(name)) + name + bytes([kind]) + struct.pack("<IQQ", numel, start, len(raw))
    for (_, _, _, raw), start in zip(entries, starts):
        out += bytes(start - len(out)) + raw
    dest.write_bytes(bytes(out))
    return len(keep)


def write_site(out: Path, python312: str) -> None:
    """``out/site.tar.xz``: the missing packages installed for Python 3.12, debug symbols stripped."""
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p, "--platform", p.replace("_28_", "_24_"))]
    with tempfile.TemporaryDirectory() as tmp:
        wheels, site = Path(tmp) / "wheels", Path(tmp) / "site"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(wheels), *PACKAGES],
            check=True,
        )  # fmt: skip
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), *SDIST_ONLY],
                       check=True)  # fmt: skip
        subprocess.run(
            [python312, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-compile", "--target",
             str(site), *map(str, sorted(wheels.glob("*.whl")))],
            check=True,
        )  # fmt: skip
        for library in site.rglob("*.so"):
            subprocess.run(["strip", "--strip-unneeded", str(library)], check=True)
        for tests in [*site.glob("*/tests")]:
            shutil.rmtree(tests)
        with tarfile.open(out / "site.tar.xz", "w:xz") as tar:
            tar.add(site, arcname=".")


def pack_data(out: Path) -> None:
    with tarfile.open(out / "data.tar.xz", "w:xz") as tar:
        tar.add(out / "data", arcname="data")
    shutil.rmtree(out / "data")
