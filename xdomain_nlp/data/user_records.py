"""Rows of a user's source into the package's two shapes, and `datasets` folders and Hub datasets.

The file readers (`xdomain_nlp.data.user_files`) hand ``(line, record)`` pairs here, so every
source names a bad row the same way: file and line, or dataset and row.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import datasets

from xdomain_nlp.data.conllu import FEATURES, CorpusFormatError
from xdomain_nlp.data.sentiment import sentence_dataset
from xdomain_nlp.errors import InputError
from xdomain_nlp.hub_access import hub_unreachable, offline

HUB_PREFIX = "hf:"
LABEL_NAMES = {"negative": 0, "neg": 0, "0": 0, "positive": 1, "pos": 1, "1": 1}


def label_mapper(options: dict[str, str], where: str):
    """A function ``(value, line) -> 0/1`` that names file, line and value when it cannot map one."""
    if "negative" in options:
        names = {v.strip().lower(): 0 for v in options["negative"].split(",")}
        names |= {v.strip().lower(): 1 for v in options["positive"].split(",")}
    else:
        names = LABEL_NAMES

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


def tagged_dataset(records: Iterable[tuple[int, dict]], where: str) -> datasets.Dataset:
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


def sentences_dataset(records: list[tuple[int, dict]], where: str, options: dict[str, str]) -> datasets.Dataset:
    """Labelled sentences from ``(line, record)`` pairs; a missing text or label names its line."""
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


def normalise_dataset(data: datasets.Dataset, where: str, options: dict[str, str]) -> datasets.Dataset:
    """A `datasets.Dataset` in one of the package's two shapes; class labels map by their names."""
    if set(FEATURES) <= set(data.column_names):
        return data.select_columns(list(FEATURES))
    if any(k in data.column_names for k in ("words", "tokens")):
        return tagged_dataset(((i + 1, dict(r)) for i, r in enumerate(data)), where)
    label_key = options.get("label_column", "label")
    feature = data.features.get(label_key)
    names = feature.names if isinstance(feature, datasets.ClassLabel) else None
    records = []
    for i, record in enumerate(data):
        record = dict(record)
        if names is not None and isinstance(record.get(label_key), int) and record[label_key] >= 0:
            record[label_key] = names[record[label_key]]  # class labels map by their names
        records.append((i + 1, record))
    return sentences_dataset(records, f"{where} row", options)


def load_dataset_folder(path: Path, options: dict[str, str]) -> datasets.Dataset:
    """A folder written by ``save_to_disk`` (a DatasetDict needs ``[split=...]``)."""
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        split = options.get("split")
        if split not in loaded:
            raise InputError(f"{path}: a DatasetDict; pick a split with [split=...]: it has {', '.join(loaded)}")
        return loaded[split]
    return loaded


def read_hub_dataset(name: str, options: dict[str, str]) -> datasets.Dataset:
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
    return normalise_dataset(data, name, options)


def _at(where: str, line: int) -> str:
    """``file:line``, or ``dataset row N`` for rows of a loaded dataset."""
    return f"{where} {line}" if where.endswith(" row") else f"{where}:{line}"
