"""Word-to-subword alignment and windows for sentences longer than the encoder can see.

A word's label sits on its first subword. A sentence whose subwords exceed the window is cut
into overlapping windows on word boundaries; each word is *owned* by exactly one window (the
overlap is split at its middle, so every word is predicted with context on both sides), and no
word is ever dropped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from xdomain_nlp.errors import InputError


class WordPieceCache:
    """Subword ids per word, computed once per distinct word (corpora repeat words a lot).

    Words are tokenized in Unicode NFC, so that a decomposed "können" (o + combining diaeresis)
    gets the pieces of the composed one; the words themselves are left as they came."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, limit: int = 0) -> None:
        """``limit`` > 0: start afresh when more distinct words than that would be held (a long stream)."""
        self.tokenizer = tokenizer
        self.pieces: dict[str, list[int]] = {}
        self.unk = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else 0
        self.limit = limit

    def add(self, words: Iterable[str], batch: int = 8192) -> None:
        words = set(words)
        if self.limit and len(self.pieces) + len(words.difference(self.pieces)) > self.limit:
            self.pieces.clear()  # memory stays bounded over a stream of ever new words
        new = sorted(w for w in words if w not in self.pieces)
        backend = getattr(self.tokenizer, "backend_tokenizer", None)  # a fast tokenizer's own (Rust) batch call
        for i in range(0, len(new), batch):
            chunk = new[i : i + batch]
            normal = [unicodedata.normalize("NFC", w) for w in chunk]
            if backend is not None:
                encoded = [e.ids for e in backend.encode_batch(normal, add_special_tokens=False)]
            else:
                encoded = self.tokenizer(normal, add_special_tokens=False)["input_ids"]
            for word, ids in zip(chunk, encoded):
                # A word that normalises to nothing still needs a position to carry its label.
                self.pieces[word] = ids or [self.unk]

    def __call__(self, words: Sequence[str]) -> list[list[int]]:
        missing = [w for w in words if w not in self.pieces]
        if missing:
            self.add(missing)
        return [self.pieces[w] for w in words]


@dataclass(frozen=True)
class Window:
    start: int  # first word in the window
    end: int  # one past the last word
    own_start: int  # words [own_start, own_end) are predicted from this window
    own_end: int


def plan_windows(lengths: Sequence[int], max_pieces: int, overlap: int) -> list[Window]:
    """Cover words with windows of at most ``max_pieces`` subwords, overlapping by ``overlap``.

    A single word longer than ``max_pieces`` gets a window of its own (its label sits on its
    first subword, so clipping its tail pieces loses no label).
    """
    if max_pieces < 1:
        raise InputError(f"max_pieces must be positive, got {max_pieces}")
    if not 0 <= overlap < max_pieces:
        raise InputError(f"overlap must be in [0, max_pieces), got {overlap} for max_pieces={max_pieces}")
    n = len(lengths)
    spans: list[tuple[int, int]] = []
    start = 0
    while start < n:
        end, used = start, 0
        while end < n and (end == start or used + lengths[end] <= max_pieces):
            used += lengths[end]
            end += 1
        spans.append((start, end))
        if end == n:
            break
        # Step back so the next window re-reads about `overlap` pieces of left context.
        nxt, back = end, 0
        while nxt - 1 > start and back + lengths[nxt - 1] <= overlap:
            nxt -= 1
            back += lengths[nxt]
        start = nxt
    windows = []
    for k, (s, e) in enumerate(spans):
        own_s = 0 if k == 0 else (spans[k - 1][1] + s) // 2
        own_e = n if k == len(spans) - 1 else (e + spans[k + 1][0]) // 2
        windows.append(Window(s, e, own_s, own_e))
    return windows


@dataclass
class EncodedWindow:
    """One encoder input: subword ids, and where the words it owns start."""

    sentence: int  # index of the sentence in its dataset
    input_ids: list[int]
    word_positions: list[int]  # token position of each owned word's first subword
    word_indices: list[int]  # index of each owned word in its sentence
    labels: list[int]  # label id per owned word (-100 when unlabelled)


def encode_sentence(
    sentence: int,
    pieces: Sequence[Sequence[int]],
    labels: Sequence[int] | None,
    *,
    bos: int | None,
    eos: int | None,
    max_length: int,
    overlap: int,
) -> list[EncodedWindow]:
    """Turn one sentence (subword ids per word) into windows the encoder can take."""
    specials = (bos is not None) + (eos is not None)
    budget = max_length - specials
    lengths = [len(p) for p in pieces]
    if lengths and sum(lengths) <= budget:  # the common case: one window that owns every word
        ids = [bos] if bos is not None else []
        positions = []
        for word_ids in pieces:
            positions.append(len(ids))
            ids.extend(word_ids)
        if eos is not None:
            ids.append(eos)
        n = len(pieces)
        window_labels = list(labels) if labels is not None else [-100] * n
        return [EncodedWindow(sentence, ids, positions, list(range(n)), window_labels)]
    out = []
    for win in plan_windows(lengths, budget, min(overlap, budget - 1)):
        ids = [bos] if bos is not None else []
        positions, indices, window_labels = [], [], []
        for w in range(win.start, win.end):
            word_ids = list(pieces[w])[: budget - (len(ids) - (bos is not None))]
            if win.own_start <= w < win.own_end:
                positions.append(len(ids))
                indices.append(w)
                window_labels.append(labels[w] if labels is not None else -100)
            ids.extend(word_ids)
        if eos is not None:
            ids.append(eos)
        out.append(EncodedWindow(sentence, ids, positions, indices, window_labels))
    return out
