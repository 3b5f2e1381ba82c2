"""CoNLL-U reading into `datasets.Dataset`, strict about format.

One row per sentence. The columns hold *syntactic words* (integer ids), the units UD annotates
with UPOS; multiword tokens (``6-7 im``) are kept as spans over those words so that surface text
can be rebuilt, and empty nodes (``8.1``) are kept in their own columns rather than dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import datasets

from xdomain_nlp.errors import InputError

_WORD_ID = re.compile(r"^[1-9][0-9]*$")
_RANGE_ID = re.compile(r"^([1-9][0-9]*)-([1-9][0-9]*)$")
_EMPTY_ID = re.compile(r"^(0|[1-9][0-9]*)\.([1-9][0-9]*)$")

FEATURES = datasets.Features(
    {
        "sent_id": datasets.Value("string"),
        "doc_id": datasets.Value("string"),
        "genre": datasets.Value("string"),
        "text": datasets.Value("string"),
        "words": datasets.List(datasets.Value("string")),
        "lemmas": datasets.List(datasets.Value("string")),
        "upos": datasets.List(datasets.Value("string")),
        "xpos": datasets.List(datasets.Value("string")),
        "feats": datasets.List(datasets.Value("string")),
        "heads": datasets.List(datasets.Value("int32")),
        "deprels": datasets.List(datasets.Value("string")),
        "misc": datasets.List(datasets.Value("string")),
        "mwt_start": datasets.List(datasets.Value("int32")),
        "mwt_end": datasets.List(datasets.Value("int32")),
        "mwt_form": datasets.List(datasets.Value("string")),
        "empty_ids": datasets.List(datasets.Value("string")),
        "empty_forms": datasets.List(datasets.Value("string")),
        "line": datasets.Value("int32"),
    }
)


class CorpusFormatError(InputError):
    """A corpus file breaks its format; the message names the file and line."""


def read_utf8(path: Path) -> str:
    """A text file's contents (a leading byte-order mark dropped); bad UTF-8 names the file and line."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise CorpusFormatError(f"{path}:{line}: not valid UTF-8 ({err.reason})") from None
    return text[1:] if text.startswith("\ufeff") else text


def utf8_lines(path: Path) -> Iterator[str]:
    """A text file's lines one at a time (line ends cut, a ``\r`` before them kept; a leading
    byte-order mark dropped): memory stays flat whatever the file's size. Bad UTF-8 names the line."""
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise CorpusFormatError(f"{path}:{line_no}: not valid UTF-8 ({err.reason})") from None
            if line_no == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield line[:-1] if line.endswith("\n") else line


def genre_from_sent_id(sent_id: str) -> str:
    """The genre a treebank encodes in its sentence ids, or "" when it encodes none.

    EWT ids start with the genre (``weblog-blogspot.com_...``), GUM ids carry it second
    (``GUM_academic_exposure-1``); other treebanks (GSD ``train-s1``) have none.
    """
    if sent_id.startswith("GUM_"):
        return sent_id.split("_")[1]
    head = sent_id.split("-", 1)[0]
    if head in {"answers", "email", "newsgroup", "reviews", "weblog"}:
        return head
    return ""


def _empty_sentence() -> dict:
    return {key: [] for key, feature in FEATURES.items() if isinstance(feature, datasets.List)}


def iter_conllu(path: str | Path, *, keep_lines: bool = False) -> Iterator[dict]:
    """Yield one dict per sentence of a CoNLL-U file; raise `CorpusFormatError` on bad input.

    ``keep_lines`` adds ``lines``: the sentence's lines exactly as in the file (comments, multiword
    and empty-node lines, every column), so that output can keep all of the input. The file is read
    a line at a time."""
    path = Path(path)

    doc_id = ""
    sent = _empty_sentence()
    meta: dict[str, str] = {}
    start_line = 0
    block: list[str] = []

    def fail(line_no: int, message: str) -> CorpusFormatError:
        return CorpusFormatError(f"{path}:{line_no}: {message}")

    def finish(line_no: int) -> dict:
        n = len(sent["words"])
        for i, head in enumerate(sent["heads"]):
            if head > n:
                raise fail(line_no, f"head {head} of word {i + 1} is beyond the sentence's {n} words")
        for start, end in zip(sent["mwt_start"], sent["mwt_end"]):
            if end >= n:
                raise fail(line_no, f"multiword token {start + 1}-{end + 1} covers missing words")
        sent_id = meta.get("sent_id", f"{path.name}:{start_line}")
        row = dict(sent)
        if keep_lines:
            row["lines"] = list(block)
        row.update(
            sent_id=sent_id,
            doc_id=doc_id,
            genre=genre_from_sent_id(sent_id),
            text=meta.get("text", ""),
            line=start_line,
        )
        return row

    line_no = 0
    for line_no, raw_line in enumerate(utf8_lines(path), start=1):
        line = raw_line.rstrip("\r")
        if not line.strip():
            if sent["words"]:
                yield finish(line_no)
            elif meta:
                raise fail(line_no, "sentence has comments but no word lines")
            sent, meta, block = _empty_sentence(), {}, []
            continue
        block.append(raw_line)
        if line.startswith("#"):
            if not meta and not sent["words"]:
                start_line = line_no
            key, sep, value = line[1:].partition("=")
            if sep:
                key, value = key.strip(), value.strip()
                if key == "newdoc id":
                    doc_id = value
                meta[key] = value
            continue
        if not sent["words"] and not sent["mwt_start"] and not meta:
            start_line = line_no
        cols = line.split("\t")
        if len(cols) != 10:
            raise fail(line_no, f"expected 10 tab-separated columns, found {len(cols)}")
        tok_id = cols[0]
        if not cols[1]:
            raise fail(line_no, f"token {tok_id} has an empty FORM (CoNLL-U writes an underscore as _)")
        if _WORD_ID.match(tok_id):
            expected = len(sent["words"]) + 1
            if int(tok_id) != expected:
                raise fail(line_no, f"word id {tok_id} out of order (expected {expected})")
            head = cols[6]
            if head == "_":
                head_value = -1  # unannotated head
            elif head.isdigit():
                head_value = int(head)
            else:
                raise fail(line_no, f"bad head {head!r} (expected an integer or _)")
            sent["words"].append(cols[1])
            sent["lemmas"].append(cols[2])
            sent["upos"].append(cols[3])
            sent["xpos"].append(cols[4])
            sent["feats"].append(cols[5])
            sent["heads"].append(head_value)
            sent["deprels"].append(cols[7])
            sent["misc"].append(cols[9])
        elif m := _RANGE_ID.match(tok_id):
            start, end = int(m.group(1)), int(m.group(2))
            if start != len(sent["words"]) + 1 or end <= start:
                raise fail(line_no, f"bad multiword token range {tok_id}")
            sent["mwt_start"].append(start - 1)
            sent["mwt_end"].append(end - 1)
            sent["mwt_form"].append(cols[1])
        elif _EMPTY_ID.match(tok_id):
            sent["empty_ids"].append(tok_id)
            sent["empty_forms"].append(cols[1])
        else:
            raise fail(line_no, f"bad token id {tok_id!r}")
    if sent["words"]:
        yield finish(line_no)
    elif meta:
        raise fail(line_no, "file ends with comments but no word lines")


def read_conllu(path: str | Path) -> datasets.Dataset:
    """Read a CoNLL-U file into a `datasets.Dataset` (one row per sentence)."""
    rows = list(iter_conllu(path))
    columns = {name: [row[name] for row in rows] for name in FEATURES}
    return datasets.Dataset.from_dict(columns, features=FEATURES)


def surface_tokens(row: dict) -> list[str]:
    """The sentence as written: multiword tokens once (``im``), other words as they are."""
    starts = dict(zip(row["mwt_start"], zip(row["mwt_end"], row["mwt_form"])))
    tokens, i = [], 0
    while i < len(row["words"]):
        if i in starts:
            end, form = starts[i]
            tokens.append(form)
            i = end + 1
        else:
            tokens.append(row["words"][i])
            i += 1
    return tokens
