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
from collections.abc import Iterable
from pathlib import Path

import datasets

from xdomain_nlp.data.conllu import FEATURES, CorpusFormatError, read_conllu, read_utf8
from xdomain_nlp.data.sentiment import sentence_dataset
from xdomain_nlp.errors import InputError
from xdomain_nlp.hub_access import hub_unreachable, offline

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
HUB_PREFIX = "hf:"
_NAMES = {"negative": 0, "neg": 0, "0": 0, "positive": 1, "pos": 1, "1": 1}


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
        data = _read_hub(name, options)
    else:
        path = Path(name)
        suffix = path.suffix.lower()
        if path.is_dir():
            data = _normalise(_load_from_disk(path, options), str(path), options)
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


def label_mapper(options: dict[str, str], where: str):
    """A function ``(value, line) -> 0/1`` that names file, line and value when it cannot map one."""
    if "negative" in options:
        names = {v.strip().lower(): 0 for v in options["negative"].split(",")}
        names |= {v.strip().lower(): 1 for v in options["positive"].split(",")}
    else:
        names = _NAMES

    def to_label(value, line: int) -> int:
        key = str(value).strip().lower()
        if isinstance(value, float) and value.is_integer():
            key = str(int(value))
        if key not in names:
            accepted = " / ".join(sorted(names))
            raise CorpusFormatError(
                f"{_at(where, line)}: label {value!r} is not one of {accepted}; map the file's values with "
                f"[negative=...;positive=...]"
            )
        return names[key]

    return to_label


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
    known = _NAMES if "negative" not in options else {}
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
        return _tagged_dataset(records, str(path))
    return _sentences(records, str(path), options)


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
    return _tagged_dataset(records, str(path))


def _tagged_dataset(records: Iterable[tuple[int, dict]], where: str) -> datasets.Dataset:
    """CoNLL-U-shaped rows from word lists; columns the source lacks are ``_`` as in CoNLL-U."""
    lists = [k for k, f in FEATURES.items() if isinstance(f, datasets.List)]
    columns: dict[str, list] = {k: [] for k in FEATURES}
    for line, record in records:
        words = record.get("words", record.get("tokens"))
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
            raise CorpusFormatError(f"{where}:{line}: 'words' must be a non-empty list of non-empty strings")
        n = len(words)
        row = {k: [] for k in lists} | {"words": words, "heads": [-1] * n}
        for key in ("lemmas", "upos", "xpos", "feats", "deprels", "misc"):
            value = record.get(key, record.get("tags") if key == "upos" else None)
            if value is None:
                row[key] = ["_"] * n
            elif not isinstance(value, list) or len(value) != n:
                raise CorpusFormatError(f"{where}:{line}: '{key}' must be a list of {n} tags, one a word")
            else:
                row[key] = [str(v) for v in value]
        sent_id = str(record.get("sent_id", record.get("id", f"{Path(where).name}:{line}")))
        row |= {"sent_id": sent_id, "doc_id": "", "genre": "", "text": record.get("text", " ".join(words))}
        row["line"] = line
        for key in FEATURES:
            columns[key].append(row[key])
    return datasets.Dataset.from_dict(columns, features=FEATURES)


def _sentences(records: list[tuple[int, dict]], where: str, options: dict[str, str]) -> datasets.Dataset:
    text_key, label_key = options.get("text_column", "text"), options.get("label_column", "label")
    to_label = label_mapper(options, where)
    rows = []
    for line, record in records:
        text = record.get(text_key)
        if not isinstance(text, str) or not text.strip():
            found = "no" if text is None else "an empty" if isinstance(text, str) else f"a {type(text).__name__}"
            raise CorpusFormatError(f"{_at(where, line)}: {found} {text_key!r} text (fields: {sorted(record)})")
        if label_key == "none":
            label = -1
        elif label_key not in record:
            raise CorpusFormatError(f"{_at(where, line)}: no {label_key!r} field (fields: {sorted(record)}); "
                                    "label_column=none reads texts without labels")  # fmt: skip
        else:
            label = to_label(record[label_key], line)
        rows.append({"text": text.strip(), "label": label, "line": line, "id": str(record.get("id", line))})
    return sentence_dataset(rows)


def _normalise(data: datasets.Dataset, where: str, options: dict[str, str]) -> datasets.Dataset:
    """A `datasets.Dataset` in one of the package's two shapes; class labels map by their names."""
    if set(FEATURES) <= set(data.column_names):
        return data.select_columns(list(FEATURES))
    if any(k in data.column_names for k in ("words", "tokens")):
        return _tagged_dataset(((i + 1, dict(r)) for i, r in enumerate(data)), where)
    label_key = options.get("label_column", "label")
    feature = data.features.get(label_key)
    names = feature.names if isinstance(feature, datasets.ClassLabel) else None
    records = []
    for i, record in enumerate(data):
        record = dict(record)
        if names is not None and isinstance(record.get(label_key), int) and record[label_key] >= 0:
            record[label_key] = names[record[label_key]]  # class labels map by their names
        records.append((i + 1, record))
    return _sentences(records, f"{where} row", options)


def _load_from_disk(path: Path, options: dict[str, str]) -> datasets.Dataset:
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        split = options.get("split")
        if split not in loaded:
            raise InputError(f"{path}: a DatasetDict; pick a split with [split=...]: it has {', '.join(loaded)}")
        return loaded[split]
    return loaded


def _read_hub(name: str, options: dict[str, str]) -> datasets.Dataset:
    """``hf:owner/name[:split]`` through `datasets.load_dataset` (cached; offline once cached)."""
    repo, _, split = name[len(HUB_PREFIX) :].partition(":")
    split = split or options.get("split", "")
    if not split:
        raise InputError(f"{name}: which split? write {name}:train (or :test, :validation)")
    reason = hub_unreachable()
    try:
        with offline(reason is not None):  # unreachable: the cache answers at once, no minute of retries
            data = datasets.load_dataset(repo, options.get("config"), split=split)
    except (FileNotFoundError, ConnectionError, datasets.exceptions.DatasetNotFoundError) as err:
        why = f"{reason}" if reason else f"the Hub did not have it ({err})"
        raise ConnectionError(
            f"{name}: not in the datasets cache and {why}; load it once where the Hub is reachable, "
            "or save_to_disk it and pass the folder"
        ) from None
    return _normalise(data, name, options)


def _at(where: str, line: int) -> str:
    """``file:line``, or ``dataset row N`` for rows of a loaded dataset."""
    return f"{where} {line}" if where.endswith(" row") else f"{where}:{line}"
