"""Readers for the sentiment corpora: one labelled sentence per row, errors naming file and line.

Each returns a `datasets.Dataset` with ``text``, ``label`` (0 = negative, 1 = positive),
``line`` (where the row starts in its file) and ``id``.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import datasets

from xdomain_nlp.data.conllu import CorpusFormatError, read_utf8

log = logging.getLogger(__name__)
LABELS = ["negative", "positive"]


def _lines(path: Path):
    return enumerate(read_utf8(path).split("\n"), start=1)


def _label(value: str, path: Path, number: int) -> int:
    if value not in ("0", "1"):
        raise CorpusFormatError(f"{path}:{number}: label {value!r} is not 0 (negative) or 1 (positive)")
    return int(value)


def sentence_dataset(rows: list[dict]) -> datasets.Dataset:
    """Labelled sentences in the one shape every sentiment reader returns (label -1: none)."""
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=LABELS),
            "line": datasets.Value("int32"),
            "id": datasets.Value("string"),
        }
    )
    return datasets.Dataset.from_list(rows, features=features)


def read_tab_labelled(path: str | Path) -> datasets.Dataset:
    """UCI "sentiment labelled sentences": ``sentence<TAB>label``.

    The label is after the *last* tab: some imdb sentences hold unbalanced quotes, which make CSV
    readers with default quoting swallow rows (748 of 1,000 come back).
    """
    path = Path(path)
    rows = []
    for number, line in _lines(path):
        if not line.strip():
            continue
        text, tab, label = line.rpartition("\t")
        if not tab or not text.strip():
            raise CorpusFormatError(f"{path}:{number}: expected 'sentence<TAB>label', got {line[:60]!r}")
        rows.append({"text": text.strip(), "label": _label(label.strip(), path, number), "line": number})
    for i, row in enumerate(rows):
        row["id"] = f"{path.stem}-{i}"
    return sentence_dataset(rows)


def read_label_first(path: str | Path) -> datasets.Dataset:
    """SST-2 sentences in Kim (2014)'s format: ``<label> <tokenised lower-cased sentence>``."""
    path = Path(path)
    rows = []
    for number, line in _lines(path):
        if not line.strip():
            continue
        label, _, text = line.strip().partition(" ")
        if not text:
            raise CorpusFormatError(f"{path}:{number}: expected '<label> <sentence>', got {line[:60]!r}")
        rows.append({"text": text, "label": _label(label, path, number), "line": number, "id": f"{path.name}-{number}"})
    return sentence_dataset(rows)


def read_semeval_absa(path: str | Path) -> datasets.Dataset:
    """SemEval-2014 ABSA sentences with a sentence-level label where all aspect polarities agree.

    A sentence whose aspect terms and categories are all positive is positive, all negative is
    negative; sentences with mixed, neutral or conflict polarities, or none, have no binary label
    and are left out (their number is logged and kept in the dataset's description).
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise CorpusFormatError(f"{path}:{err.position[0]}: not well-formed XML ({err})") from None
    rows, left_out = [], 0
    for number, sentence in enumerate(root.iter("sentence"), start=1):
        text = sentence.findtext("text")
        if text is None:
            raise CorpusFormatError(f"{path}: sentence {sentence.get('id')!r} has no <text>")
        polarities = {a.get("polarity") for a in sentence.iter() if a.tag in ("aspectTerm", "aspectCategory")}
        if polarities in ({"positive"}, {"negative"}):
            label = 1 if polarities == {"positive"} else 0
            rows.append({"text": text.strip(), "label": label, "line": number, "id": sentence.get("id", str(number))})
        else:
            left_out += 1
    log.info("%s: %d sentences with a binary label, %d without (mixed/neutral/none)", path, len(rows), left_out)
    data = sentence_dataset(rows)
    data.info.description = f"{len(rows)} binary sentences; {left_out} without one (mixed, neutral or no aspects)"
    return data


_REVIEW = re.compile(r"<review>\s*(.*?)\s*</review>", re.S)
_FIELD = re.compile(r"<(unique_id|rating|title|review_text)>\n?(.*?)\n?</\1>", re.S)


def _read_blitzer(path: str | Path, label: int) -> datasets.Dataset:
    """Reviews of one file of the Blitzer et al. (2007) multi-domain set (``sorted_data_acl``).

    The files are pseudo-XML (no root element, raw ``&``), so blocks are found by pattern. The
    text is the title and the review body; the star rating is checked against the file's label
    (positive = 4-5 stars, negative = 1-2), and a review without a body or with a rating that
    contradicts its file is an error naming the file and line.
    """
    path = Path(path)
    text = "\n".join(line for _, line in _lines(path))  # checks UTF-8, naming the line
    rows = []
    for match in _REVIEW.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        fields = {k: v.strip() for k, v in _FIELD.findall(match.group(1))}
        if not fields.get("review_text"):
            raise CorpusFormatError(f"{path}:{line}: review has no <review_text>")
        try:
            stars = float(fields.get("rating", ""))
        except ValueError:
            raise CorpusFormatError(f"{path}:{line}: rating {fields.get('rating')!r} is not a number") from None
        if (stars >= 4) != (label == 1) or 2 < stars < 4:
            raise CorpusFormatError(f"{path}:{line}: a {stars}-star review in a {LABELS[label]} file")
        title = fields.get("title", "")
        body = fields["review_text"]
        joined = f"{title}. {body}" if title and not title.endswith((".", "!", "?")) else f"{title} {body}".strip()
        rows.append({"text": joined, "label": label, "line": line, "id": fields.get("unique_id", str(line))})
    if not rows:
        raise CorpusFormatError(f"{path}: no <review> blocks found")
    return sentence_dataset(rows)


def read_blitzer_positive(path: str | Path) -> datasets.Dataset:
    return _read_blitzer(path, 1)


def read_blitzer_negative(path: str | Path) -> datasets.Dataset:
    return _read_blitzer(path, 0)
