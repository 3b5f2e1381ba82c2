"""Writing tagged sentences back out, keeping everything the input had.

A CoNLL-U input is written back line for line: comments, multiword-token and empty-node lines and
every column stay as they came; only the column the tagger fills (UPOS, or XPOS for a mapped tag
set) changes, on word lines. Input with no CoNLL-U lines (plain text, JSONL, a Hub dataset) gets
lines built from its words. JSON lines are the other output, with the tag probabilities.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from xdomain_nlp.data.conllu import _WORD_ID, iter_conllu
from xdomain_nlp.errors import InputError

COLUMNS = {"upos": 3, "xpos": 4}


def conllu_file_of(spec: str) -> Path | None:
    """The CoNLL-U file a corpus spec reads (a named treebank split or a path), or None."""
    from xdomain_nlp.data.corpora import CORPORA, corpus_path, parse_spec

    name, _, _ = parse_spec(spec)
    corpus, _, split = name.rpartition(":")
    if corpus in CORPORA and CORPORA[corpus].splits[split].format == "conllu":
        return corpus_path(corpus, split)
    path = Path(name)
    return path if path.is_file() and path.suffix.lower() in (".conllu", ".conll") else None


def source_lines(spec: str) -> dict[int, list[str]]:
    """Each sentence's lines as written, keyed by the line it starts on (a row's ``line``)."""
    path = conllu_file_of(spec)
    return {} if path is None else {row["line"]: row["lines"] for row in iter_conllu(path, keep_lines=True)}


def sentence_lines(
    row: dict, lines: Sequence[str] | None = None, tags: Sequence[str] | None = None, column: str = "upos"
) -> list[str]:
    """One sentence as CoNLL-U lines: ``lines`` (the input's) with ``tags`` in ``column`` of its
    word lines, or lines built from ``row`` when the input had none."""
    at = COLUMNS[column]
    if lines is None:
        lines = [f"# sent_id = {row['sent_id']}"] + ([f"# text = {row['text']}"] if row.get("text") else [])
        for i, word in enumerate(row["words"], start=1):
            cells = [str(i), word] + ["_"] * 8
            for key, index in (("lemmas", 2), ("upos", 3), ("xpos", 4), ("feats", 5), ("deprels", 7), ("misc", 9)):
                if row.get(key):
                    cells[index] = row[key][i - 1] or "_"
            if row.get("heads") and row["heads"][i - 1] >= 0:
                cells[6] = str(row["heads"][i - 1])
            lines.append("\t".join(cells))
    if tags is None:
        return list(lines)
    out, k = [], 0
    for line in lines:
        cells = line.split("\t")
        if len(cells) == 10 and _WORD_ID.match(cells[0]):
            cells[at] = tags[k]
            k += 1
            line = "\t".join(cells)
        out.append(line)
    if k != len(tags):
        raise InputError(f"sentence {row.get('sent_id')}: {len(tags)} tags for {k} word lines")
    return out


def write_conllu(
    out: TextIO,
    rows: Iterable[dict],
    tags: Iterable[Sequence[str]] | None = None,
    *,
    column: str = "upos",
    lines_by_start: dict[int, list[str]] | None = None,
) -> None:
    """Every sentence, a blank line after each; with no ``tags`` an input file comes back byte for byte
    (line endings included), apart from a leading byte-order mark and runs of blank lines.

    Example (the predicted tags go into ``column``; every other column is the input's)::

        >>> import io
        >>> from xdomain_nlp.data import load_corpus
        >>> sentence = load_corpus("ud:de_gsd:test").select(range(1))
        >>> out = io.StringIO()
        >>> write_conllu(out, sentence, [["X"] * 12])
        >>> out.getvalue().splitlines()[2].split()[:5]  # the first word's line: ID, FORM, LEMMA, UPOS, XPOS
        ['1', 'Der', 'der', 'X', 'ART']
    """
    lines_by_start = lines_by_start or {}
    tag_iter = iter(tags) if tags is not None else None
    for row in rows:
        sentence_tags = next(tag_iter) if tag_iter is not None else None
        for line in sentence_lines(row, lines_by_start.get(row["line"]), sentence_tags, column):
            out.write(line + "\n")
        out.write("\n")


def write_jsonl(out: TextIO, rows: Iterable[dict], tags: Iterable[Sequence[str]], probs, *, tag_set: str) -> None:
    """One JSON object a sentence: its id, words, tags and each tag's probability."""
    for row, sentence_tags, sentence_probs in zip(rows, tags, probs):
        record = {
            "sent_id": row["sent_id"],
            "words": list(row["words"]),
            "tag_set": tag_set,
            "tags": list(sentence_tags),
            "probabilities": [round(float(p), 4) for p in sentence_probs],
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
