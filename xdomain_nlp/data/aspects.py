"""SemEval-2014 aspect terms as word-level BIO tags (``B-ASP``/``I-ASP``/``O``).

Text is split by spaCy's rule-based English tokenizer (the words the parser and the sentiment
models see). An aspect term's character span is mapped to the words it covers; a span that
starts or ends inside a word ("pizza" in "pizza-lover" is fine, "izza" is not) is widened to
whole words and counted, never dropped.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import datasets

from xdomain_nlp.data.conllu import CorpusFormatError

log = logging.getLogger(__name__)
ASPECT_TAGS = ["O", "B-ASP", "I-ASP"]


def read_semeval_aspect_terms(path: str | Path) -> datasets.Dataset:
    """Every sentence (with or without aspects): ``words``, ``aspect_tags``, ``text``, ``id``, ``line``."""
    import spacy

    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise CorpusFormatError(f"{path}:{err.position[0]}: not well-formed XML ({err})") from None
    tokenizer = spacy.blank("en").tokenizer
    rows, widened = [], []
    for number, sentence in enumerate(root.iter("sentence"), start=1):
        sid = sentence.get("id", str(number))
        text = sentence.findtext("text")
        if text is None:
            raise CorpusFormatError(f"{path}: sentence {sid!r} has no <text>")
        doc = tokenizer(text)
        keep = [t.i for t in doc if not t.is_space]
        position = {i: k for k, i in enumerate(keep)}
        tags = ["O"] * len(keep)
        spans = set()
        for term in sentence.iter("aspectTerm"):
            start, end = int(term.get("from", -1)), int(term.get("to", -1))
            if not 0 <= start < end <= len(text) or text[start:end] != term.get("term"):
                raise CorpusFormatError(
                    f"{path}: sentence {sid!r}: aspect term {term.get('term')!r} at {start}:{end} "
                    f"does not match the text ({text[max(start, 0) : max(end, 0)]!r})"
                )
            span = doc.char_span(start, end)
            if span is None:
                span = doc.char_span(start, end, alignment_mode="expand")
                widened.append(sid)
            spans.add((span.start, span.end))
        for start, end in sorted(spans):
            words = [position[i] for i in range(start, end) if i in position]
            if any(tags[k] != "O" for k in words):
                raise CorpusFormatError(f"{path}: sentence {sid!r}: aspect terms overlap at {doc[start:end].text!r}")
            for n, k in enumerate(words):
                tags[k] = "B-ASP" if n == 0 else "I-ASP"
        words = [doc[i].text for i in keep]
        rows.append({"words": words, "aspect_tags": tags, "text": text, "id": sid, "line": number})
    if widened:
        log.warning("%s: %d aspect spans widened to whole words (e.g. sentence %s)", path, len(widened), widened[0])
    features = datasets.Features(
        {
            "words": datasets.List(datasets.Value("string")),
            "aspect_tags": datasets.List(datasets.Value("string")),
            "text": datasets.Value("string"),
            "id": datasets.Value("string"),
            "line": datasets.Value("int32"),
        }
    )
    data = datasets.Dataset.from_list(rows, features=features)
    data.info.description = f"{len(rows)} sentences; {len(widened)} aspect spans widened to whole words"
    return data
