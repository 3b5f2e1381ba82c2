"""Masked-LM adaptation: go on pretraining the encoder on the unlabelled text of both domains.

A classifier fine-tuned on Food sees Movie words only through what pretraining gave them.
Continuing the encoder's masked-language-model training on unlabelled source and target text
first (Han & Eisenstein 2019, "AdaptaBERT"; Gururangan et al. 2020) moves its states towards
both domains before any label is used. The embedded e5 ships no MLM head, so a new one is
learnt (dense, GELU, LayerNorm, then the encoder's own word embeddings, tied). Its softmax runs
only at masked positions and only over the pieces the adaptation text uses: BERT's head, a
250k-piece softmax at every position, made a step about 7x slower on 2 CPU cores.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn
from transformers import AutoModelForMaskedLM, PreTrainedModel, PreTrainedTokenizerBase

from xdomain_nlp.encoders.resolve import load_pretrained
from xdomain_nlp.errors import InputError

IGNORE = -100
# Where an architecture keeps its MLM head's transform and output bias.
_HEAD_PATHS = (
    ("lm_head.dense", "lm_head.layer_norm", "lm_head.bias"),  # RoBERTa, XLM-R
    ("cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm", "cls.predictions.bias"),  # BERT
)


def text_windows(
    texts: Sequence[str], tokenizer: PreTrainedTokenizerBase, max_length: int, overlap: int, source: str
) -> list[list[int]]:
    """Each text's pieces with special tokens; a text longer than ``max_length`` becomes
    overlapping windows (every piece is in at least one), never a truncated one."""
    room = max_length - 2
    if room <= overlap or overlap < 0:
        raise InputError(f"max_length - 2 ({room}) must exceed window overlap ({overlap}) >= 0")
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    windows = []
    normal = [unicodedata.normalize("NFC", t) for t in texts]  # composed and decomposed text alike
    for number, ids in enumerate(tokenizer(normal, add_special_tokens=False)["input_ids"]):
        if not ids:
            raise InputError(f"{source}: the text at index {number} is empty (no pieces to predict)")
        start = 0
        while True:
            windows.append([cls, *ids[start : start + room], sep])
            if start + room >= len(ids):
                break
            start += room - overlap
    return windows


class MaskedLMHead(nn.Module):
    """BERT's prediction head over a subset of the vocabulary, tied to the word embeddings."""

    def __init__(self, embeddings: nn.Embedding, vocab_ids: torch.Tensor) -> None:
        super().__init__()
        hidden = embeddings.embedding_dim
        self.embeddings = embeddings  # shared with the encoder, not a copy
        self.dense = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)
        self.bias = nn.Parameter(torch.zeros(len(vocab_ids)))
        self.register_buffer("vocab_ids", vocab_ids.long(), persistent=False)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        hidden = self.norm(nn.functional.gelu(self.dense(states)))
        return hidden @ self.embeddings.weight[self.vocab_ids].T + self.bias


class MaskedLMAdapter(nn.Module):
    """Encoder + head; the loss is cross-entropy at the masked positions only."""

    def __init__(self, encoder: PreTrainedModel, vocab_ids: Sequence[int]) -> None:
        super().__init__()
        self.encoder = encoder
        ids = torch.tensor(sorted(set(vocab_ids)))
        self.head = MaskedLMHead(encoder.get_input_embeddings(), ids)
        index = torch.full((encoder.config.vocab_size,), IGNORE, dtype=torch.long)
        index[ids] = torch.arange(len(ids))
        self.register_buffer("label_index", index, persistent=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> dict:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        picked = labels != IGNORE
        target = self.label_index[labels[picked]]
        if (target == IGNORE).any():
            raise InputError("a masked piece is outside the head's vocabulary (vocab_ids must cover the text)")
        logits = self.head(states[picked])
        loss = nn.functional.cross_entropy(logits.float(), target)
        correct = (logits.argmax(-1) == target).sum()
        return {"loss": loss, "correct": correct, "predicted": target.numel()}


def load_masked_lm(name: str, vocab_ids: Sequence[int]) -> tuple[MaskedLMAdapter, bool]:
    """The encoder with its own pretrained MLM head when the checkpoint has one (``xlm-roberta-base``),
    else with a new head (the embedded e5). The second value says which."""
    full, info = load_pretrained(AutoModelForMaskedLM, name)  # a checkpoint without a head is expected
    adapter = MaskedLMAdapter(full.base_model, vocab_ids)
    missing = set(info["missing_keys"])
    for dense_path, norm_path, bias_path in _HEAD_PATHS:
        try:
            dense, norm = full.get_submodule(dense_path), full.get_submodule(norm_path)
            bias = full.get_parameter(bias_path)
        except AttributeError:
            continue
        if {f"{dense_path}.weight", f"{norm_path}.weight", bias_path} & missing:
            return adapter, False
        adapter.head.dense.load_state_dict(dense.state_dict())
        adapter.head.norm.load_state_dict(norm.state_dict())
        adapter.head.norm.eps = norm.eps
        with torch.no_grad():
            adapter.head.bias.copy_(bias[adapter.head.vocab_ids])
        return adapter, True
    return adapter, False


def mask_pieces(
    input_ids: torch.Tensor,
    special: torch.Tensor,
    mask_id: int,
    vocab_ids: torch.Tensor,
    prob: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's rule: ``prob`` of the ordinary pieces are predicted; of those 80% become the mask,
    10% a random piece of the head's vocabulary, 10% stay. Labels are -100 where nothing is asked."""
    if not 0.0 < prob < 1.0:
        raise InputError(f"mask probability must be in (0, 1), got {prob}")
    draw = torch.rand(input_ids.shape, generator=generator)
    chosen = (draw < prob) & ~special
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE))
    inputs = input_ids.clone()
    how = torch.rand(input_ids.shape, generator=generator)
    inputs[chosen & (how < 0.8)] = mask_id
    swap = chosen & (how >= 0.8) & (how < 0.9)
    picks = torch.randint(len(vocab_ids), input_ids.shape, generator=generator)
    inputs[swap] = vocab_ids[picks[swap]]
    return inputs, labels


def collate_masked(
    windows: Sequence[Sequence[int]],
    tokenizer: PreTrainedTokenizerBase,
    vocab_ids: torch.Tensor,
    prob: float,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """Pad a batch of windows and mask it."""
    longest = max(len(w) for w in windows)
    ids = torch.full((len(windows), longest), tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros_like(ids)
    for row, window in enumerate(windows):
        ids[row, : len(window)] = torch.tensor(window)
        attention[row, : len(window)] = 1
    special = torch.isin(ids, torch.tensor(tokenizer.all_special_ids))
    inputs, labels = mask_pieces(ids, special, tokenizer.mask_token_id, vocab_ids, prob, generator)
    return {"input_ids": inputs, "attention_mask": attention, "labels": labels}


def save_adapted_encoder(adapter: MaskedLMAdapter, tokenizer: PreTrainedTokenizerBase, path: str | Path) -> Path:
    """The encoder alone, loadable as ``model: PATH`` by every recipe (the head is dropped)."""
    path = Path(path)
    adapter.encoder.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
