"""From a corpus of words and tags to padded encoder batches."""

from __future__ import annotations

import random
from collections.abc import Sequence

import datasets
import torch
from transformers import PreTrainedTokenizerBase

from xdomain_nlp.errors import InputError
from xdomain_nlp.labelspace.tagsets import UPOS_TAGS
from xdomain_nlp.tagging.alignment import EncodedWindow, WordPieceCache, encode_sentence

UPOS = UPOS_TAGS  # the one list of the 17 universal tags, owned by the label spaces


class UnknownLabelError(InputError):
    """A tag in the data is not in the model's label set."""


def encode_corpus(
    corpus: datasets.Dataset,
    tokenizer: PreTrainedTokenizerBase,
    *,
    label_column: str | None,
    label2id: dict[str, int] | None,
    max_length: int = 512,
    overlap: int = 64,
    cache: WordPieceCache | None = None,
    source: str = "corpus",
) -> list[EncodedWindow]:
    """Encode every sentence into windows; labels are checked against ``label2id``."""
    if "words" not in corpus.column_names:
        raise InputError(
            f"{source}: labelled sentences (text, label), not words to tag; a tagger reads CoNLL-U, "
            "JSONL with 'words' and tag lists, or plain text"
        )
    if label_column and label_column not in corpus.column_names:
        raise InputError(f"{source}: no {label_column!r} column to train or score on; it has {corpus.column_names}")
    all_words = corpus["words"]
    labels = None
    if label_column:
        tags = corpus[label_column]
        sent_ids = corpus["sent_id"] if "sent_id" in corpus.column_names else None
        labels = []
        for i, sentence_tags in enumerate(tags):
            for j, tag in enumerate(sentence_tags):
                if tag not in label2id:
                    where = sent_ids[i] if sent_ids else f"sentence {i}"
                    raise UnknownLabelError(
                        f"{source}: {where}, word {j + 1} ({all_words[i][j]!r}): {label_column} tag {tag!r} "
                        f"is not in the label set {sorted(label2id)}"
                    )
            labels.append([label2id[tag] for tag in sentence_tags])
    return encode_words(all_words, tokenizer, labels=labels, max_length=max_length, overlap=overlap, cache=cache)


def encode_words(
    sentences: Sequence[Sequence[str]],
    tokenizer: PreTrainedTokenizerBase,
    *,
    labels: Sequence[Sequence[int]] | None = None,
    max_length: int = 512,
    overlap: int = 64,
    cache: WordPieceCache | None = None,
) -> list[EncodedWindow]:
    """Windows for word lists (``labels``: label ids per word, or None), without a dataset in between."""
    cache = cache or WordPieceCache(tokenizer)
    cache.add(w for words in sentences for w in words)
    bos = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    eos = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    out: list[EncodedWindow] = []
    for i, words in enumerate(sentences):
        sentence_labels = labels[i] if labels is not None else None
        out.extend(encode_sentence(i, cache(words), sentence_labels, bos=bos, eos=eos, max_length=max_length,
                                   overlap=overlap))  # fmt: skip
    return out


def collate_windows(windows: Sequence[EncodedWindow], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad to the longest window of the batch; flatten word positions for `TokenTagger`."""
    sizes = [len(w.input_ids) for w in windows]
    length = max(sizes)
    input_ids = torch.tensor([w.input_ids + [pad_id] * (length - n) for w, n in zip(windows, sizes)], dtype=torch.long)
    attention_mask = (torch.arange(length) < torch.tensor(sizes).unsqueeze(1)).long()
    word_index, labels = [], []
    for b, w in enumerate(windows):
        offset = b * length
        word_index.extend([offset + p for p in w.word_positions])
        labels.extend(w.labels)
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "word_index": torch.tensor(word_index, dtype=torch.long),
        "labels": torch.tensor(labels, dtype=torch.long),
    }


def capitalisation_noise(words: list[list[str]], prob: float, seed: int) -> list[list[str]]:
    """Upper-case the first letter of lower-case words with probability ``prob``.

    An English tagger learns "capitalised mid-sentence = proper noun"; German capitalises every
    noun, so that cue misleads it (NOUN -> PROPN is the largest cell of the zero-shot confusion
    matrix). Training on text where capitals are sometimes noise weakens the cue.
    """
    rng = random.Random(seed)
    return [[w[0].upper() + w[1:] if w[:1].islower() and rng.random() < prob else w for w in sent] for sent in words]


def with_word_weights(batch: dict, windows: list, sentence_weights: torch.Tensor | None) -> dict:
    """Add each labelled word's sentence weight to a collated batch (no-op without weights)."""
    if sentence_weights is not None:
        batch["weights"] = torch.cat([sentence_weights[w.sentence].repeat(len(w.labels)) for w in windows])
    return batch


class WindowCollator:
    """``collate_fn`` for tagging windows, with per-word sentence weights when given: an object,
    not a closure, so that loader worker processes can take it."""

    def __init__(self, pad_id: int, sentence_weights: torch.Tensor | None = None) -> None:
        self.pad_id, self.sentence_weights = pad_id, sentence_weights

    def __call__(self, windows: list) -> dict:
        return with_word_weights(collate_windows(windows, self.pad_id), windows, self.sentence_weights)
