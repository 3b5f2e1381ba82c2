"""Tagging and scoring a CoNLL-U file of any size, a chunk of sentences at a time.

Memory stays flat whatever the input's size (the file is read a line at a time, ``chunk``
sentences are held at once), the output grows while the run goes on, a bar shows the bytes done,
and every input line comes back as it was apart from the column the tagger fills. Scores add up
chunk by chunk (confusion counts), so a file scored in pieces gets the numbers of the whole.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np
from tqdm.auto import tqdm

from xdomain_nlp.data.conllu import CorpusFormatError, iter_conllu
from xdomain_nlp.data.conllu_output import sentence_lines, write_jsonl
from xdomain_nlp.training.metrics import confusion_report


def conllu_chunks(path: Path, chunk: int, desc: str, progress: bool | None = None) -> Iterator[list[dict]]:
    """``chunk`` sentences at a time (with their lines as written), a bar by bytes read; a file with
    no sentence is an error that names it."""
    rows = iter_conllu(path, keep_lines=True)
    size, seen = path.stat().st_size, 0
    with tqdm(total=size, unit="B", unit_scale=True, desc=desc, disable=progress is False) as bar:
        while batch := list(itertools.islice(rows, chunk)):
            seen += len(batch)
            yield batch
            bar.update(sum(len(line.encode("utf-8")) + 1 for row in batch for line in row["lines"]) + len(batch))
        bar.update(max(0, size - bar.n))
    if not seen:
        raise CorpusFormatError(f"{path}: no sentences in it")


def tag_conllu_file(
    tagger, path: str | Path, out: TextIO, *, tag_set: str | None = None, column: str = "upos", chunk: int = 2048,
    output_format: str = "conllu", progress: bool | None = None,
) -> dict:  # fmt: skip
    """Write ``path`` to ``out`` with ``tagger``'s tags: as CoNLL-U with the tags in ``column``, or
    one JSON object a sentence (``output_format="jsonl"``); returns sentences, words, seconds."""
    sentences = words = 0
    start = time.perf_counter()
    for batch in conllu_chunks(Path(path), chunk, "tagging", progress):
        tags, probs = tagger.tag_words([row["words"] for row in batch], tag_set=tag_set, progress=False)
        if output_format == "jsonl":
            write_jsonl(out, batch, tags, probs, tag_set=tag_set or tagger.model.source_tag_set)
        else:
            for row, sentence_tags in zip(batch, tags):
                out.writelines(line + "\n" for line in sentence_lines(row, row["lines"], sentence_tags, column))
                out.write("\n")
        out.flush()  # the output grows as the input is read
        sentences += len(batch)
        words += sum(len(row["words"]) for row in batch)
    seconds = time.perf_counter() - start
    return {"sentences": sentences, "words": words, "seconds": seconds, "words_per_s": words / max(seconds, 1e-9)}


def evaluate_conllu_file(
    tagger, path: str | Path, *, tag_set: str | None = None, column: str | None = None, chunk: int = 2048,
    progress: bool | None = None,
) -> dict:  # fmt: skip
    """`Tagger.evaluate` on a CoNLL-U file, read a chunk at a time: the same report, flat memory."""
    import datasets

    column = column or tagger.gold_column
    labels = tagger.labels(tag_set)
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for batch in conllu_chunks(Path(path), chunk, "scoring", progress):
        keys = [k for k in ("words", "sent_id", column) if k in batch[0]]  # a missing column is named below
        corpus = datasets.Dataset.from_dict({k: [row[k] for row in batch] for k in keys})
        confusion += tagger.confusion(corpus, tag_set=tag_set, column=column, source=str(path))
    return {"tag_set": tag_set or tagger.model.source_tag_set, "column": column, **confusion_report(confusion, labels)}
