"""A user's own corpora: tables, JSON lines, plain text, `datasets` folders and Hub datasets.

Every reader returns one of the two shapes the package trains on, so a user file goes wherever a
named corpus goes:

* **labelled sentences** (sentiment): ``text``, ``label`` (negative / positive, -1 when the file
  has no labels), ``line`` and ``id``, as the readers in `xdomain_nlp.data.sentiment` give;
* **tagged sentences**: the CoNLL-U columns of `xdomain_nlp.data.conllu.FEATURES`.

Options ride on the spec in brackets, beside column filters: ``reviews.csv[text_column=review;
label_column=stars;negative=1,2;positive=4,5]``. Labels map by name (``negative``/``positive``,
``neg``/``pos``, ``0``/``1``); a value that maps to neither is an error naming file, line and value.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import datasets

from xdomain_nlp.data.conllu import CorpusFormatError, read_conllu, read_utf8
from xdomain_nlp.data.sentiment import sentence_dataset
from xdomain_nlp.data.user_records import (
    HUB_PREFIX,
    LABEL_NAMES,
    label_mapper,
    load_dataset_folder,
    normalise_dataset,
    read_hub_dataset,
    sentences_dataset,
    tagged_dataset,
)
from xdomain_nlp.errors import InputError

OPTIONS = {
    "text_column": "column (name, or number from 1 without a header) holding the text",
    "label_column": "column holding the label ('none': the file has no labels)",
    "header": "yes / no: whether the first row of a table names its columns (default: guessed)",
    "negative": "label values that mean negative (with positive=..., replaces the default names)",
    "positive": "label values that mean positive",
    "split": "split of a saved DatasetDict or a Hub dataset",
    "config": "configuration of a Hub dataset",
    "lang": "language of a plain-text file, for spaCy's tokenizer (default: xx)",
}
TABLES = {".tsv": "\t", ".csv": ","}
SUFFIXES = (".conllu", ".conll", ".jsonl", ".txt", *TABLES)


def is_user_source(name: str) -> bool:
    """True for a Hub dataset (``hf:owner/name:split``) or an existing file or folder."""
    return name.startswith(HUB_PREFIX) or Path(name).exists()


def check_user_source(name: str, options: dict[str, str]) -> str | None:
    """What is wrong with a user source and its options, without reading it (None when fine)."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        return f"{name}: unknown option(s) {', '.join(unknown)}; options are {', '.join(OPTIONS)}"
    if options.get("header", "yes") not in ("yes", "no"):
        return f"{name}: header={options['header']}: choose yes or no"
    if ("negative" in options) != ("positive" in options):
        return f"{name}: give both negative=... and positive=... label values, or neither"
    if name.startswith(HUB_PREFIX):
        repo = name[len(HUB_PREFIX) :].split(":")[0]
        return None if repo else f"{name}: a Hub dataset is hf:owner/name or hf:owner/name:split"
    path = Path(name)
    if not path.exists():
        return f"corpus file {name} does not exist"
    if path.is_dir():
        if not any((path / f).is_file() for f in ("dataset_info.json", "dataset_dict.json", "state.json")):
            return f"{name}: a folder, but not one written by datasets' save_to_disk (no dataset_info.json)"
        return None
    if path.suffix.lower() not in SUFFIXES:
        return f"{name}: unknown file type {path.suffix or '(no suffix)'!r}; use one of {', '.join(SUFFIXES)}"
    return None


def read_user_source(name: str, options: dict[str, str] | None = None) -> datasets.Dataset:
    """Read a user's file, folder or Hub dataset (see the module docstring for the shapes)."""
    options = dict(options or {})
    problem = check_user_source(name, options)
    if problem:
        raise FileNotFoundError(problem) if "does not exist" in problem else InputError(problem)
    if name.startswith(HUB_PREFIX):
        data = read_hub_dataset(name, options)
    else:
        path = Path(name)
        suffix = path.suffix.lower()
        if path.is_dir():
            data = normalise_dataset(load_dataset_folder(path, options), str(path), options)
        elif suffix in (".conllu", ".conll"):
            data = read_conllu(path)
        elif suffix in TABLES:
            data = read_table(path, TABLES[suffix], options)
        elif suffix == ".jsonl":
            data = read_jsonl(path, options)
        else:
            data = read_plain_text(path, options.get("lang", "xx"))
    if len(data) == 0:
        raise CorpusFormatError(f"{name}: no sentences in it (an empty corpus trains and scores nothing)")
    return data


def read_table(path: str | Path, delimiter: str, options: dict[str, str] | None = None) -> datasets.Dataset:
    """Labelled sentences from a TSV or CSV file, with or without a header row.

    TSV is split on tabs only (quotes are text: review sentences hold unbalanced ones); CSV follows
    the usual quoting. Without a header, columns are numbered from 1; a two-column file needs no
    numbers when one column holds label names."""
    path, options = Path(path), dict(options or {})
    rows = _table_rows(path, delimiter)
    if not rows:
        raise CorpusFormatError(f"{path}: no rows in it")
    text_key, label_key = options.get("text_column", "text"), options.get("label_column", "label")
    header = options.get("header") or ("yes" if text_key in rows[0][1] else "no")
    if header == "yes":
        names = rows[0][1]
        missing = [k for k in (text_key, label_key) if k not in names and k != "none"]
        if missing:
            raise CorpusFormatError(f"{path}:1: no column {missing[0]!r} in the header; it has {names}")
        rows = rows[1:]
        text_at = names.index(text_key)
        label_at = None if label_key == "none" else names.index(label_key)
    else:
        text_at, label_at = _positions(path, rows, options)
    to_label = label_mapper(options, str(path))
    out = []
    width = max(text_at, label_at or 0) + 1
    for line, cells in rows:
        if len(cells) < width:
            raise CorpusFormatError(f"{path}:{line}: expected at least {width} columns, found {len(cells)}")
        text = cells[text_at].strip()
        if not text:
            raise CorpusFormatError(f"{path}:{line}: the text is empty")
        label = -1 if label_at is None else to_label(cells[label_at], line)
        out.append({"text": text, "label": label, "line": line, "id": f"{path.stem}-{line}"})
    return sentence_dataset(out)


def _table_rows(path: Path, delimiter: str) -> list[tuple[int, list[str]]]:
    text = read_utf8(path)
    if delimiter == "\t":
        return [(n, line.rstrip("\r").split("\t")) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    rows, start = [], 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as err:
        raise CorpusFormatError(f"{path}:{reader.line_num}: not valid CSV ({err})") from None
    return rows


def _positions(path: Path, rows: list, options: dict[str, str]) -> tuple[int, int | None]:
    def number(key: str) -> int:
        value = options[key]
        if not value.isdigit() or int(value) < 1:
            raise CorpusFormatError(f"{path}: without a header, {key} is a column number from 1, not {value!r}")
        return int(value) - 1

    if "text_column" in options:
        label = options.get("label_column", "none")
        return number("text_column"), None if label == "none" else number("label_column")
    first = rows[0][1]
    if len(first) == 1 and options.get("label_column") == "none":
        return 0, None
    known = LABEL_NAMES if "negative" not in options else {}
    label_like = [i for i, cell in enumerate(first) if cell.strip().lower() in known]
    if len(first) == 2 and len(label_like) == 1:
        return 1 - label_like[0], label_like[0]
    raise CorpusFormatError(
        f"{path}:1: no header naming a 'text' column; say which columns hold what, e.g. "
        f"[header=no;text_column=1;label_column=2] or [text_column=review;label_column=stars]"
    )


def read_jsonl(path: str | Path, options: dict[str, str] | None = None) -> datasets.Dataset:
    """One JSON object a line: ``{"text": ..., "label": ...}`` for sentences, or ``{"words": [...],
    "upos": [...]}`` (``tokens`` for ``words``; any tag lists of the same length) for tagging."""
    path, options = Path(path), dict(options or {})
    records = []
    for line, raw in enumerate(read_utf8(path).split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as err:
            raise CorpusFormatError(f"{path}:{line}: not valid JSON ({err.msg}, column {err.colno})") from None
        if not isinstance(record, dict):
            raise CorpusFormatError(f"{path}:{line}: expected a JSON object, found {type(record).__name__}")
        records.append((line, record))
    if records and any(k in records[0][1] for k in ("words", "tokens")):
        return tagged_dataset(records, str(path))
    return sentences_dataset(records, str(path), options)


def read_plain_text(path: str | Path, lang: str = "xx") -> datasets.Dataset:
    """One sentence a line, split into words by spaCy's tokenizer for ``lang``; blank lines skipped."""
    import spacy

    path = Path(path)
    try:
        tokenizer = spacy.blank(lang).tokenizer
    except ImportError:
        raise InputError(f"{path}: lang={lang!r} is not a language spaCy knows (e.g. en, de, xx)") from None
    records = []
    for line, text in enumerate(read_utf8(path).split("\n"), start=1):
        text = text.rstrip("\r")
        if text.strip():
            words = [t.text for t in tokenizer(text.strip()) if not t.is_space]
            records.append((line, {"words": words, "text": text.strip()}))
    return tagged_dataset(records, str(path))
