"""The token tagger: a `transformers` token-classification model scored on first subwords only.

Keeping the Hub's own ``*ForTokenClassification`` class means a saved tagger loads with plain
``AutoModelForTokenClassification.from_pretrained``; the forward here gathers the first subword
of each word before the classifier, so no work is spent on positions that carry no label.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModelForTokenClassification, AutoTokenizer, PreTrainedTokenizerBase

from xdomain_nlp.encoders import resolve_model

XDOMAIN_FILE = "xdomain.json"


class TokenTagger(nn.Module):
    """Encoder + linear head over first subwords; ``labels`` names the tag of each output."""

    def __init__(self, hf_model: nn.Module, labels: list[str]) -> None:
        super().__init__()
        if hf_model.config.num_labels != len(labels):
            raise ValueError(f"model has {hf_model.config.num_labels} outputs but {len(labels)} labels were given")
        self.hf = hf_model
        self.labels = list(labels)

    @classmethod
    def from_encoder(cls, model: str, labels: list[str]) -> TokenTagger:
        """A fresh head on a pretrained encoder (embedded name, local path or Hub id)."""
        hf = AutoModelForTokenClassification.from_pretrained(
            resolve_model(model),
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
        return cls(hf, labels)

    @property
    def encoder(self) -> nn.Module:
        return self.hf.base_model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor) -> torch.Tensor:
        """Logits for the words at ``word_index`` (flat positions into the batch x length grid)."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        words = hidden.flatten(0, 1).index_select(0, word_index)
        return self.hf.classifier(self.hf.dropout(words))

    def save(self, path: str | Path, tokenizer: PreTrainedTokenizerBase, extra: dict[str, Any] | None = None) -> Path:
        """Write the model directory: HF weights + config, tokenizer, and ``xdomain.json``."""
        path = Path(path)
        self.hf.save_pretrained(path)
        tokenizer.save_pretrained(path)
        meta = {"task": "tagging", "labels": self.labels, **(extra or {})}
        (path / XDOMAIN_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False))
        return path


def load_tagger(path: str | Path) -> tuple[TokenTagger, PreTrainedTokenizerBase, dict[str, Any]]:
    """Load a saved tagger directory back: model, tokenizer and its ``xdomain.json``."""
    path = Path(path)
    meta_file = path / XDOMAIN_FILE
    if not meta_file.is_file():
        raise FileNotFoundError(f"{path}: not an xdomain_nlp model directory (no {XDOMAIN_FILE})")
    meta = json.loads(meta_file.read_text())
    if meta.get("task") != "tagging":
        raise ValueError(f"{meta_file}: task is {meta.get('task')!r}, expected 'tagging'")
    hf = AutoModelForTokenClassification.from_pretrained(path)
    return TokenTagger(hf, meta["labels"]), AutoTokenizer.from_pretrained(path), meta
