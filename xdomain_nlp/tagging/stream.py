"""Tagging a CoNLL-U file of any size: read, tag and write a chunk of sentences at a time.

Memory stays flat whatever the input's size (the file is read a line at a time, ``chunk``
sentences are held at once), the output grows while the run goes on, a bar shows the bytes done,
and every input line comes back as it was apart from the column the tagger fills.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import TextIO

from tqdm.auto import tqdm

from xdomain_nlp.data.conllu import CorpusFormatError, iter_conllu
from xdomain_nlp.data.conllu_output import sentence_lines


def tag_conllu_file(
    tagger, path: str | Path, out: TextIO, *, tag_set: str | None = None, column: str = "upos", chunk: int = 2048,
    progress: bool | None = None,
) -> dict:  # fmt: skip
    """Write ``path`` to ``out`` with ``tagger``'s tags in ``column``; returns sentences, words, seconds."""
    path = Path(path)
    rows = iter_conllu(path, keep_lines=True)
    sentences = words = 0
    start = time.perf_counter()
    size = path.stat().st_size
    with tqdm(total=size, unit="B", unit_scale=True, desc="tagging", disable=progress is False) as bar:
        while batch := list(itertools.islice(rows, chunk)):
            tags, _ = tagger.tag_words([row["words"] for row in batch], tag_set=tag_set, progress=False)
            for row, sentence_tags in zip(batch, tags):
                for line in sentence_lines(row, row["lines"], sentence_tags, column):
                    out.write(line + "\n")
                out.write("\n")
                words += len(row["words"])
            sentences += len(batch)
            out.flush()  # the output grows as the input is read
            bar.update(sum(len(line.encode("utf-8")) + 1 for row in batch for line in row["lines"]) + len(batch))
        bar.update(max(0, size - bar.n))
    if not sentences:
        raise CorpusFormatError(f"{path}: no sentences in it")
    seconds = time.perf_counter() - start
    return {"sentences": sentences, "words": words, "seconds": seconds, "words_per_s": words / max(seconds, 1e-9)}
