"""Sentence embeddings from an encoder: mean-pooled states, long texts in windows.

Used where a fixed-size view of a text is needed: the domain classifier and kernel methods of
`xdomain_nlp.shift`, and sentence classifiers on a frozen encoder. e5 models expect a prefix
("query: " for classification-like uses).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
import torch

from xdomain_nlp.devices import CPU, autocast, model_device, pick_device, to_device
from xdomain_nlp.encoders.resolve import load_encoder, load_tokenizer
from xdomain_nlp.training.sampler import token_budget_batches


@torch.inference_mode()
def embed_texts(
    model: str,
    texts: Sequence[str],
    *,
    prefix: str = "query: ",
    max_length: int = 256,
    max_tokens: int = 16384,
    device: torch.device | str | None = None,
    autocast_dtype: torch.dtype | None = None,
    normalize: bool = True,
    encoder=None,
    tokenizer=None,
) -> np.ndarray:
    """One vector per text (mean of its token states). A text longer than ``max_length`` subwords
    is cut into consecutive windows whose means are averaged, weighted by their lengths.

    ``device``: where to run; by default where ``encoder`` is, or the first GPU (else the CPU) for an
    encoder loaded here."""
    tokenizer = tokenizer or load_tokenizer(model)
    if encoder is None:
        encoder = load_encoder(model).to(pick_device("auto") if device is None else device)
    elif device is not None:
        encoder.to(device)
    encoder.eval()
    device = model_device(encoder)
    texts = [unicodedata.normalize("NFC", prefix + t) for t in texts]  # composed and decomposed text alike
    ids = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    budget = max_length - 2
    pieces = []  # (text index, window ids)
    for i, row in enumerate(ids):
        row = row or [tokenizer.unk_token_id]
        for start in range(0, len(row), budget):
            pieces.append((i, [tokenizer.cls_token_id, *row[start : start + budget], tokenizer.sep_token_id]))
    sums = torch.zeros(len(texts), encoder.config.hidden_size)
    counts = torch.zeros(len(texts))
    for batch in token_budget_batches([len(p[1]) for p in pieces], max_tokens):
        length = max(len(pieces[b][1]) for b in batch)
        input_ids = torch.full((len(batch), length), tokenizer.pad_token_id)
        mask = torch.zeros_like(input_ids)
        for r, b in enumerate(batch):
            input_ids[r, : len(pieces[b][1])] = torch.tensor(pieces[b][1])
            mask[r, : len(pieces[b][1])] = 1
        batch_on_device = to_device({"input_ids": input_ids, "attention_mask": mask}, device)
        with autocast(device, autocast_dtype):
            states = encoder(**batch_on_device).last_hidden_state
        states = states.float().to(CPU) * mask.unsqueeze(-1)
        for r, b in enumerate(batch):
            sums[pieces[b][0]] += states[r].sum(0)
            counts[pieces[b][0]] += mask[r].sum()
    out = sums / counts.unsqueeze(-1)
    if normalize:
        out = torch.nn.functional.normalize(out, dim=-1)
    return out.numpy()
