"""Vocabulary trimming: keep only the subword pieces a set of texts uses.

The embedded encoder spends 96M of its 117M parameters on a 250k-piece embedding table; a
corpus pair uses a few tens of thousands. Dropping the rest gives a model that is a fraction of
the size, loads faster and fits where size is capped. For a unigram tokenizer the words of the
given texts segment exactly as before (the best segmentation only used kept pieces); pieces
outside the kept set become ``<unk>``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer

from xdomain_nlp.encoders.resolve import load_encoder, resolve_model


def used_piece_ids(tokenizer, words: Iterable[str], batch: int = 4096) -> set[int]:
    """Ids of the pieces needed to encode ``words`` (and the tokenizer's special tokens)."""
    keep = set(tokenizer.all_special_ids)
    unique = sorted({unicodedata.normalize("NFC", w) for w in words})  # as the package tokenizes them
    for i in range(0, len(unique), batch):
        for ids in tokenizer(unique[i : i + batch], add_special_tokens=False)["input_ids"]:
            keep.update(ids)
    return keep


def letter_script(ch: str) -> str | None:
    """The script of a letter (``LATIN``, ``CYRILLIC``, ``CJK``, ...), or None for what every script
    shares: digits, punctuation, symbols, spaces, combining marks and the word-start mark."""
    if ch == "\u2581" or unicodedata.category(ch)[0] in "NPSZMC":
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ")[0] if name else None


def scripts_of(words: Iterable[str]) -> set[str]:
    """The scripts the letters of ``words`` are written in."""
    return {script for word in set(words) for script in map(letter_script, word) if script is not None}


def script_piece_ids(spec: dict, scripts: set[str]) -> set[int]:
    """Pieces with no letter outside ``scripts``: every word written in those scripts segments into
    the same pieces as with the whole vocabulary (its best segmentation only used such pieces)."""
    return {i for i, (piece, _) in enumerate(spec["model"]["vocab"]) if scripts_of([piece]) <= scripts}


def top_piece_ids(spec: dict, n: int) -> set[int]:
    """The ``n`` pieces of a unigram tokenizer its own model finds most probable (its scores are log
    probabilities): kept beside a corpus's pieces, they let unseen text still segment into real
    pieces rather than characters and ``<unk>``."""
    vocab = spec["model"]["vocab"]
    return set(sorted(range(len(vocab)), key=lambda i: vocab[i][1], reverse=True)[:n]) if n > 0 else set()


def tokenizer_spec(tokenizer) -> dict:
    """The ``tokenizer.json`` of a fast unigram tokenizer, as a dict (the pieces and their scores)."""
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    if spec["model"]["type"] != "Unigram":
        raise NotImplementedError(f"trimming supports unigram tokenizers, not {spec['model']['type']}")
    return spec


def trimmed_tokenizer(spec: dict, keep: Iterable[int], always: Iterable[int]) -> tuple[dict, list[int]]:
    """``spec`` (a `tokenizer_spec`, changed in place) with only the pieces ``keep`` and ``always``
    (the special tokens) and its unknown piece, and the kept old ids in their new order (new id =
    position)."""
    kept = sorted(set(keep) | set(always) | {spec["model"]["unk_id"]})
    remap = {old: new for new, old in enumerate(kept)}
    spec["model"]["vocab"] = [spec["model"]["vocab"][old] for old in kept]
    spec["model"]["unk_id"] = remap[spec["model"]["unk_id"]]
    for added in spec.get("added_tokens", []):
        added["id"] = remap[added["id"]]
    post = spec.get("post_processor") or {}
    for special in post.get("special_tokens", {}).values():
        special["ids"] = [remap[i] for i in special["ids"]]
    return spec, kept


def trimmed_config(config: dict[str, Any], kept: list[int]) -> dict[str, Any]:
    """The settings of a model ``config`` that trimming to ``kept`` changes: the vocabulary size and
    the special token ids."""
    remap = {old: new for new, old in enumerate(kept)}
    ids = ("pad_token_id", "bos_token_id", "eos_token_id")
    return {"vocab_size": len(kept), **{k: remap[config[k]] for k in ids if config.get(k) is not None}}


def trim_vocabulary(model: str, words: Iterable[str], dest: str | Path, *, top: int = 0) -> Path:
    """Write a copy of ``model`` whose vocabulary holds only the pieces ``words`` need (and the
    ``top`` most probable pieces of the tokenizer, for text beyond ``words``)."""
    src = resolve_model(model)
    tokenizer = AutoTokenizer.from_pretrained(src)
    spec = tokenizer_spec(tokenizer)
    keep = used_piece_ids(tokenizer, words) | top_piece_ids(spec, top)
    spec, keep = trimmed_tokenizer(spec, keep, tokenizer.all_special_ids)

    encoder = load_encoder(src)
    old_embeddings = encoder.get_input_embeddings().weight.data
    pad = keep.index(tokenizer.pad_token_id) if tokenizer.pad_token_id in keep else None
    new_embeddings = torch.nn.Embedding(len(keep), old_embeddings.shape[1], padding_idx=pad)
    new_embeddings.weight.data = old_embeddings[keep].clone()
    encoder.set_input_embeddings(new_embeddings)
    encoder.config.update(trimmed_config(encoder.config.to_dict(), keep))

    dest = Path(dest)
    encoder.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    (dest / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False))
    (dest / "trim.json").write_text(json.dumps({"source": model, "kept_pieces": len(keep), "piece_ids": keep}))
    return dest
