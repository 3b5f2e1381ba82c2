"""A biaffine dependency parser (Dozat & Manning 2017) on the package's encoders.

Why not ``spacy train``: this parser shares the encoder, the word/subword alignment and the
windows of every other model here, so a sentence longer than the encoder's window is parsed
whole (word states from overlapping windows, arcs scored over the full sentence), and the
same multilingual encoder serves any language the tagger serves. spaCy still runs it, through
the ``xdomain_parser`` component.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from xdomain_nlp.devices import CPU, model_device, to_device
from xdomain_nlp.encoders import load_encoder
from xdomain_nlp.errors import InputError
from xdomain_nlp.modeldir import FolderParts, load_heads, open_model, save_model
from xdomain_nlp.relational.tree import decode_single_root
from xdomain_nlp.tagging.alignment import EncodedWindow
from xdomain_nlp.tagging.data import collate_windows

PARSER_HEAD_FILE = "parser_head.safetensors"


class MLP(nn.Sequential):
    def __init__(self, n_in: int, n_out: int, dropout: float) -> None:
        super().__init__(nn.Linear(n_in, n_out), nn.GELU(), nn.Dropout(dropout))


class Biaffine(nn.Module):
    """``x_i^T W_l y_j`` for every pair (i, j) and output ``l``, with bias terms on both sides."""

    def __init__(self, dim: int, n_out: int = 1, bias_x: bool = True, bias_y: bool = True) -> None:
        super().__init__()
        self.bias_x, self.bias_y = bias_x, bias_y
        self.weight = nn.Parameter(torch.zeros(n_out, dim + bias_x, dim + bias_y))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.bias_x:
            x = torch.cat([x, x.new_ones(*x.shape[:-1], 1)], -1)
        if self.bias_y:
            y = torch.cat([y, y.new_ones(*y.shape[:-1], 1)], -1)
        return torch.einsum("bxi,oij,byj->boxy", x, self.weight, y)  # batch, out, x, y

    def paired(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``x_i^T W_l y_i`` for aligned pairs only: ``[B, N, out]`` where `forward` gives every
        (i, j); what decoding needs once each word's head is chosen."""
        if self.bias_x:
            x = torch.cat([x, x.new_ones(*x.shape[:-1], 1)], -1)
        if self.bias_y:
            y = torch.cat([y, y.new_ones(*y.shape[:-1], 1)], -1)
        return torch.einsum("bxi,oij,bxj->bxo", x, self.weight, y)


class BiaffineParser(nn.Module):
    """Encoder word states -> arc scores (dependent x head) and relation scores."""

    task = "parsing"
    heads_file = PARSER_HEAD_FILE

    def __init__(
        self, encoder: nn.Module, relations: list[str], arc_dim: int = 384, rel_dim: int = 128, dropout: float = 0.2
    ) -> None:
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.relations = list(relations)
        self.arc_dim, self.rel_dim, self.dropout = arc_dim, rel_dim, dropout
        self.root = nn.Parameter(torch.randn(hidden) * 0.02)  # the state of the artificial ROOT word
        self.drop = nn.Dropout(dropout)
        self.arc_dep, self.arc_head = MLP(hidden, arc_dim, dropout), MLP(hidden, arc_dim, dropout)
        self.rel_dep, self.rel_head = MLP(hidden, rel_dim, dropout), MLP(hidden, rel_dim, dropout)
        self.arc = Biaffine(arc_dim, 1, bias_x=True, bias_y=False)
        self.rel = Biaffine(rel_dim, len(relations))

    @classmethod
    def from_encoder(cls, model: str, relations: list[str], **kwargs: Any) -> BiaffineParser:
        return cls(load_encoder(model), relations, **kwargs)

    def sentence_states(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor, lengths: Sequence[int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Word states regrouped per sentence with ROOT first: ``[B, 1 + max_len, H]`` and a word mask.

        ``word_index`` lists the first subword of each word, sentence by sentence in word order
        (the windows of a sentence own consecutive words, so concatenating them gives the sentence).
        """
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        flat = states.flatten(0, 1).index_select(0, word_index)
        longest = max(lengths)
        out = flat.new_zeros(len(lengths), longest + 1, flat.shape[-1])
        mask = torch.zeros(len(lengths), longest + 1, dtype=torch.bool, device=flat.device)
        out[:, 0] = self.root
        start = 0
        for b, n in enumerate(lengths):
            out[b, 1 : n + 1] = flat[start : start + n]
            mask[b, 1 : n + 1] = True
            start += n
        return self.drop(out), mask

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor, lengths: Sequence[int]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Arc scores ``[B, N+1, N+1]`` (dependent, head), relation scores ``[B, R, N+1, N+1]``, mask."""
        h, mask = self.sentence_states(input_ids, attention_mask, word_index, lengths)
        return self.arc_scores(h, mask), self.rel(self.rel_dep(h), self.rel_head(h)), mask

    def arc_scores(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Arc scores ``[B, N+1, N+1]`` of `sentence_states`; a padded position or the dependent
        itself can never be a head (-inf)."""
        arcs = self.arc(self.arc_dep(h), self.arc_head(h)).squeeze(1)
        head_ok = mask.clone()
        head_ok[:, 0] = True
        arcs = arcs.masked_fill(~head_ok[:, None, :], float("-inf"))
        eye = torch.eye(arcs.shape[-1], dtype=torch.bool, device=arcs.device)
        return arcs.masked_fill(eye[None] & mask[:, :, None], float("-inf"))

    def relation_scores_at(self, h: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
        """Relation scores ``[B, N+1, R]`` of each word at the head ``heads[b, d]`` (a position in
        ``h``): at inference, R scores a word instead of R for every candidate head."""
        head_states = h.gather(1, heads[..., None].expand(-1, -1, h.shape[-1]))
        return self.rel.paired(self.rel_dep(h), self.rel_head(head_states))

    def loss(
        self, arcs: torch.Tensor, rels: torch.Tensor, mask: torch.Tensor, heads: torch.Tensor, rel_ids: torch.Tensor
    ) -> torch.Tensor:
        """Cross-entropy of the gold head of each word plus that of its relation at the gold head."""
        arc_loss = nn.functional.cross_entropy(arcs[mask].float(), heads[mask])
        b, w = mask.nonzero(as_tuple=True)
        rel_at_gold = rels[b, :, w, heads[b, w]]  # [words, R]
        rel_loss = nn.functional.cross_entropy(rel_at_gold.float(), rel_ids[b, w])
        return arc_loss + rel_loss

    def save(self, path: str | Path, tokenizer: PreTrainedTokenizerBase, extra: dict[str, Any] | None = None) -> Path:
        """Encoder in `transformers` format, the scorer in ``parser_head.safetensors``, ``xdomain.json``."""
        return save_model(self, path, tokenizer, extra)

    def folder_parts(self) -> FolderParts:
        head = {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}
        sizes = {"arc_dim": self.arc_dim, "rel_dim": self.rel_dim, "dropout": self.dropout}
        return FolderParts(self.encoder, {"relations": self.relations, **sizes}, head, {})

    @classmethod
    def from_folder(cls, path: Path, meta: dict[str, Any], heads: dict[str, torch.Tensor]) -> BiaffineParser:
        parser = cls(
            load_encoder(str(path)), meta["relations"], arc_dim=meta["arc_dim"], rel_dim=meta["rel_dim"],
            dropout=meta.get("dropout", 0.2),
        )  # fmt: skip
        return load_heads(parser, heads, path / PARSER_HEAD_FILE).eval()


def load_parser(
    path: str | Path, *, meta: dict[str, Any] | None = None
) -> tuple[BiaffineParser, PreTrainedTokenizerBase, dict[str, Any]]:
    """A saved parser (folder or Hub id): model, tokenizer, ``xdomain.json``."""
    return open_model(path, BiaffineParser, meta=meta)


def group_by_sentence(windows: Sequence[EncodedWindow]) -> dict[int, list[EncodedWindow]]:
    """Windows of each sentence, in word order."""
    by_sentence: dict[int, list[EncodedWindow]] = {}
    for w in windows:
        by_sentence.setdefault(w.sentence, []).append(w)
    return by_sentence


def collate_sentences(sentences: Sequence[list[EncodedWindow]], pad_id: int) -> dict[str, Any]:
    """Every window of each sentence in one batch, and each sentence's word count."""
    windows = [w for ws in sentences for w in ws]
    batch = collate_windows(windows, pad_id)
    batch["lengths"] = [sum(len(w.word_indices) for w in ws) for ws in sentences]
    return batch


class TreeCollator:
    """``collate_fn`` of parser training: `collate_sentences` plus the gold heads and relation ids of
    ``(windows, heads, relation ids)`` items (an object, so that loader workers can take it)."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, batch: Sequence[tuple]) -> dict[str, Any]:
        tensors = collate_sentences([windows for windows, _, _ in batch], self.pad_id)
        longest = max(tensors["lengths"]) + 1
        heads = torch.zeros(len(batch), longest, dtype=torch.long)
        rel_ids = torch.zeros(len(batch), longest, dtype=torch.long)
        for b, (_, h, r) in enumerate(batch):
            heads[b, 1 : len(h) + 1] = torch.tensor(h)
            rel_ids[b, 1 : len(r) + 1] = torch.tensor(r)
        return {**tensors, "heads": heads, "rel_ids": rel_ids}


@torch.inference_mode()
def parse_windows(
    parser: BiaffineParser,
    windows: Sequence[EncodedWindow],
    n_sentences: int,
    *,
    pad_id: int,
    max_tokens: int = 8192,
) -> tuple[list[list[int]], list[list[str]]]:
    """Heads (1-based, 0 = root) and relations for every word: an MST tree per sentence, scored on
    the parser's own device (the trees are decoded on the host)."""
    from xdomain_nlp.training.sampler import token_budget_batches

    was_training = parser.training
    parser.eval()
    device = model_device(parser)
    grouped = group_by_sentence(windows)
    order = sorted(grouped)
    if order != list(range(n_sentences)):
        missing = sorted(set(range(n_sentences)) - set(order))
        raise InputError(f"windows cover {len(order)} of {n_sentences} sentences; missing e.g. {missing[:5]}")
    heads: list[list[int]] = [[] for _ in range(n_sentences)]
    rels: list[list[str]] = [[] for _ in range(n_sentences)]
    sizes = [sum(len(w.input_ids) for w in grouped[s]) for s in order]
    for batch_ids in token_budget_batches(sizes, max_tokens):
        batch = to_device(collate_sentences([grouped[order[i]] for i in batch_ids], pad_id), device)
        inputs = (batch["input_ids"], batch["attention_mask"], batch["word_index"], batch["lengths"])
        h, mask = parser.sentence_states(*inputs)
        arcs = parser.arc_scores(h, mask).float().log_softmax(-1).to(CPU).numpy()
        trees = np.zeros(arcs.shape[:2], dtype=np.int64)  # padding and ROOT point at ROOT
        for b, n in enumerate(batch["lengths"]):
            trees[b, 1 : n + 1] = decode_single_root(np.nan_to_num(arcs[b, : n + 1, : n + 1], neginf=-1e9))[1:]
        best_rel = parser.relation_scores_at(h, torch.from_numpy(trees).to(device)).argmax(-1).to(CPU).numpy()
        for b, i in enumerate(batch_ids):
            n = batch["lengths"][b]
            heads[order[i]] = trees[b, 1 : n + 1].tolist()
            rels[order[i]] = [parser.relations[r] for r in best_rel[b, 1 : n + 1]]
    parser.train(was_training)
    return heads, rels
