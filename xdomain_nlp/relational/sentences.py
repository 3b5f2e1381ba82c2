"""Raw sentences -> words -> parses -> graphs, with the parses cached on disk.

Sentiment corpora are raw text; spaCy's rule-based English tokenizer (no model download)
splits them into words the way UD English does closely enough for the parser ("don't" ->
"do", "n't"). Parsing is the expensive step, so parses are stored per corpus and parser.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

import datasets
import torch

from xdomain_nlp.data import cache_dir, load_corpora
from xdomain_nlp.devices import pick_device
from xdomain_nlp.errors import InputError
from xdomain_nlp.relational.biaffine import BiaffineParser, parse_windows
from xdomain_nlp.relational.graph import DependencyGraph, build_graph
from xdomain_nlp.tagging import WordPieceCache, encode_corpus


def tokenize_texts(texts: Sequence[str], lang: str = "en") -> list[list[str]]:
    """Words of each text (whitespace dropped); an empty text is an error naming its index."""
    import spacy

    nlp = spacy.blank(lang)
    out = []
    for i, doc in enumerate(nlp.tokenizer.pipe(texts, batch_size=1000)):
        words = [t.text for t in doc if not t.is_space]
        if not words:
            raise InputError(f"text {i} has no words: {texts[i]!r}")
        out.append(words)
    return out


def parse_words(
    parser: BiaffineParser,
    tokenizer,
    words: Sequence[Sequence[str]],
    *,
    max_length: int = 256,
    overlap: int = 64,
    max_tokens: int = 16384,
) -> tuple[list[list[int]], list[list[str]]]:
    """Heads and relations for pre-tokenised sentences (windows for long ones), on the parser's device."""
    corpus = datasets.Dataset.from_dict({"words": [list(w) for w in words]})
    windows = encode_corpus(
        corpus, tokenizer, label_column=None, label2id=None, max_length=max_length, overlap=overlap,
        cache=WordPieceCache(tokenizer),
    )  # fmt: skip
    return parse_windows(parser, windows, len(corpus), pad_id=tokenizer.pad_token_id, max_tokens=max_tokens)


def parsed_corpus(
    texts: Sequence[str], parser_dir: str | Path, cache: str | Path | None, *, device: torch.device | str = "auto"
) -> list[dict]:
    """``{"words", "heads", "deprels"}`` per text; read from ``cache`` when the same texts were
    parsed by the same parser weights before."""
    parser_dir = Path(parser_dir)
    weights = parser_dir / "model.safetensors"
    key = hashlib.sha256()
    key.update(json.dumps(list(texts)).encode())
    key.update(str(weights.stat().st_size).encode() + str(weights.stat().st_mtime_ns).encode())
    path = Path(cache) / f"parses_{key.hexdigest()[:16]}.json" if cache else None
    if path is not None and path.is_file():
        return json.loads(path.read_text())
    from xdomain_nlp.relational.biaffine import load_parser

    parser, tokenizer, _ = load_parser(parser_dir)
    parser.to(pick_device(device) if device == "auto" else device)
    words = tokenize_texts(texts)
    heads, rels = parse_words(parser, tokenizer, words)
    parses = [{"words": w, "heads": h, "deprels": r} for w, h, r in zip(words, heads, rels)]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(parses))
    return parses


def graphs_of(parses: Sequence[dict]) -> list[DependencyGraph]:
    return [build_graph(p["words"], p["heads"], p["deprels"]) for p in parses]


def encode_sentences(
    sentences: Sequence[Sequence[str]],
    tokenizer,
    pieces: WordPieceCache,
    *,
    max_length: int,
    overlap: int,
    source: str,
) -> list[list]:
    """The encoder windows of each sentence: one, or several overlapping ones for a long sentence."""
    windows = encode_corpus(
        datasets.Dataset.from_dict({"words": [list(s) for s in sentences]}), tokenizer, label_column=None,
        label2id=None, max_length=max_length, overlap=overlap, cache=pieces, source=source,
    )  # fmt: skip
    by_sentence: list[list] = [[] for _ in sentences]
    for w in windows:
        by_sentence[w.sentence].append(w)
    return by_sentence


def load_graph_items(
    specs: Sequence[str],
    parser_dir: str | Path,
    tokenizer,
    pieces: WordPieceCache,
    *,
    limit: int = 0,
    max_length: int = 256,
    overlap: int = 64,
    device: torch.device | str = "auto",
    labelled: bool = True,
) -> tuple[list[tuple], list[dict]]:
    """``(windows, graph, label)`` per sentence of the named corpora, and their parses (parsed once, cached).

    ``limit`` keeps that many sentences of a seed-0 shuffle; ``labelled=False`` never reads the
    corpus labels (every item's label is -100)."""
    corpus = load_corpora(list(specs))
    where = " + ".join(specs)
    if labelled and "label" not in corpus.column_names:
        raise InputError(f"{where}: tagged words, not labelled sentences; give a sentiment set or a labelled file")
    if labelled and min(corpus["label"]) < 0:
        raise InputError(f"{where}: sentences read without labels (label_column=none) where labels are needed")
    if limit:
        corpus = corpus.shuffle(seed=0).select(range(min(limit, len(corpus))))
    parses = parsed_corpus(corpus["text"], parser_dir, cache_dir() / "parses", device=device)
    windows = encode_sentences(
        [p["words"] for p in parses], tokenizer, pieces, max_length=max_length, overlap=overlap, source="+".join(specs)
    )
    labels = corpus["label"] if labelled else [-100] * len(corpus)
    return list(zip(windows, graphs_of(parses), labels)), parses


def mask_words(
    sentences: Sequence[Sequence[str]], words: set[str], rate: float, mask: str, seed: int
) -> list[list[str]]:
    """Each word of ``words`` (lower-cased match) replaced by ``mask`` with probability ``rate``."""
    rng = random.Random(seed)
    return [[mask if w.lower() in words and rng.random() < rate else w for w in s] for s in sentences]
