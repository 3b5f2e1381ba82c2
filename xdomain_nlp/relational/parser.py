"""`Parser`: a saved dependency parser as one object, ``Parser.load(path).predict(texts)``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from xdomain_nlp.devices import CPU_PARSE_BATCH_TOKENS, autocast, inference_batch_tokens, inference_dtype, pick_device
from xdomain_nlp.modeldir import window_settings
from xdomain_nlp.relational.biaffine import BiaffineParser, load_parser, parse_windows
from xdomain_nlp.tagging.alignment import WordPieceCache
from xdomain_nlp.tagging.data import encode_words
from xdomain_nlp.tagging.tagger import Inputs, as_sentences


class Parser:
    """Heads (1-based, 0 = the root) and relations for every word, one tree per sentence.

    Example (``parser_dir``: a folder ``recipes/parser_ewt.py`` saved)::

        >>> parser = Parser.load(parser_dir)
        >>> parsed = parser.predict("The soup was tasty.")
        >>> parsed["words"]
        ['The', 'soup', 'was', 'tasty', '.']
        >>> parsed["heads"].count(0), len(parsed["relations"])  # one root, a relation a word
        (1, 5)
    """

    def __init__(
        self, model: BiaffineParser, tokenizer, meta: dict[str, Any], *, device: str = "auto", precision: str = "auto",
        max_length: int | None = None, window_overlap: int | None = None, max_tokens: int | None = None,
    ) -> None:  # fmt: skip
        """``precision``: ``auto`` parses in bf16 where the device runs it natively (as `Tagger` does),
        ``fp32`` as the parser recipe scores. ``max_length`` / ``window_overlap`` (default: what the
        parser was trained with) and ``max_tokens`` (pieces a forward pass, default by device) are the
        spaCy component's settings."""
        self.model, self.tokenizer, self.meta = model, tokenizer, meta
        self.device = pick_device(device)
        self.dtype = inference_dtype(self.device, precision)
        self.max_length, self.window_overlap = window_settings(meta, max_length, window_overlap)
        self.max_tokens = max_tokens or inference_batch_tokens(self.device, cpu=CPU_PARSE_BATCH_TOKENS)
        self.pieces = WordPieceCache(tokenizer, limit=1_000_000)  # each distinct word tokenized once, across calls
        self.model.to(self.device).eval()

    @classmethod
    def load(cls, path_or_hub_id: str | os.PathLike, *, meta: dict[str, Any] | None = None, **settings: Any) -> Parser:
        """``meta``: the folder's ``xdomain.json`` when the caller has read it (`xdomain_nlp.load`)."""
        model, tokenizer, meta = load_parser(path_or_hub_id, meta=meta)
        return cls(model, tokenizer, meta, **settings)

    def save(self, path: str | os.PathLike) -> None:
        """The parser folder, as `load` reads it."""
        self.model.save(path, self.tokenizer, self.meta)

    @property
    def relations(self) -> list[str]:
        return list(self.model.relations)

    def predict(
        self, inputs: Inputs, *, lang: str = "en", batch_size: int = 1024, progress: bool | None = None
    ) -> dict | list[dict]:
        """``{"words", "heads", "relations"}`` for a text (one dict) or for each of many; an empty
        text gets empty lists. Texts are split by spaCy's tokenizer for ``lang``."""
        sentences, single = as_sentences(inputs, lang)
        heads, relations = self.parse_words(sentences, batch_size=batch_size, progress=progress)
        out = [{"words": w, "heads": h, "relations": r} for w, h, r in zip(sentences, heads, relations)]
        return out[0] if single else out

    def parse_words(
        self, sentences: Sequence[Sequence[str]], *, batch_size: int = 1024, progress: bool | None = None
    ) -> tuple[list[list[int]], list[list[str]]]:
        """Heads and relations for word lists, ``batch_size`` sentences at a time."""
        heads: list[list[int]] = [[] for _ in sentences]
        relations: list[list[str]] = [[] for _ in sentences]
        todo = [i for i, s in enumerate(sentences) if len(s)]
        starts = range(0, len(todo), batch_size)
        show = progress if progress is not None else len(starts) > 1
        for start in tqdm(starts, desc="parsing", unit="batch", disable=not show):
            chunk = todo[start : start + batch_size]
            windows = encode_words(
                [sentences[i] for i in chunk], self.tokenizer, max_length=self.max_length,
                overlap=self.window_overlap, cache=self.pieces,
            )  # fmt: skip
            with torch.inference_mode(), autocast(self.device, self.dtype):
                h, r = parse_windows(
                    self.model, windows, len(chunk), pad_id=self.tokenizer.pad_token_id, max_tokens=self.max_tokens
                )
            for i, hh, rr in zip(chunk, h, r):
                heads[i], relations[i] = hh, rr
        return heads, relations
