"""Inference: tag whole corpora fast, windows stitched back into sentences."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

import torch

from xdomain_nlp.tagging.alignment import EncodedWindow
from xdomain_nlp.tagging.data import collate_windows
from xdomain_nlp.tagging.model import TokenTagger
from xdomain_nlp.training.sampler import token_budget_batches


def predict_windows(
    model: TokenTagger,
    windows: Sequence[EncodedWindow],
    n_sentences: int,
    *,
    pad_id: int,
    max_tokens: int = 8192,
    device: torch.device | str = "cpu",
    autocast_dtype: torch.dtype | None = None,
    tag_set: str | None = None,
) -> tuple[list[list[int]], list[list[float]]]:
    """Best label id and its probability for every word of every sentence.

    Windows are sorted by length and packed to a token budget, so short sentences are not
    padded to long ones; each word's prediction comes from the window that owns it.
    """
    (result,) = predict_tag_sets(
        model,
        windows,
        n_sentences,
        [tag_set],
        pad_id=pad_id,
        max_tokens=max_tokens,
        device=device,
        autocast_dtype=autocast_dtype,
    )
    return result


@torch.inference_mode()
def predict_tag_sets(
    model: TokenTagger,
    windows: Sequence[EncodedWindow],
    n_sentences: int,
    tag_sets: Sequence[str | None],
    *,
    pad_id: int,
    max_tokens: int = 8192,
    device: torch.device | str = "cpu",
    autocast_dtype: torch.dtype | None = None,
) -> list[tuple[list[list[int]], list[list[float]]]]:
    """`predict_windows` for several tag sets at once (one encoder pass; ``None`` = the source set)."""
    was_training = model.training
    model.eval()
    device = torch.device(device)
    sizes = [0] * n_sentences
    for w in windows:
        sizes[w.sentence] = max(sizes[w.sentence], max(w.word_indices, default=-1) + 1)
    preds = [([[-1] * n for n in sizes], [[0.0] * n for n in sizes]) for _ in tag_sets]
    amp = torch.autocast(device.type, dtype=autocast_dtype) if autocast_dtype else nullcontext()
    for batch_ids in token_budget_batches([len(w.input_ids) for w in windows], max_tokens):
        batch = [windows[i] for i in batch_ids]
        tensors = collate_windows(batch, pad_id)
        with amp:
            all_logits = model.forward_tag_sets(
                tensors["input_ids"].to(device),
                tensors["attention_mask"].to(device),
                tensors["word_index"].to(device),
                list(tag_sets),
            )
        for (pred, prob), logits in zip(preds, all_logits):
            best_p, best = logits.float().softmax(-1).max(-1)
            best, best_p = best.tolist(), best_p.tolist()
            k = 0
            for w in batch:
                for word in w.word_indices:
                    pred[w.sentence][word] = best[k]
                    prob[w.sentence][word] = best_p[k]
                    k += 1
    model.train(was_training)
    missing = [i for i, row in enumerate(preds[0][0]) if -1 in row] if preds else []
    if missing:
        raise RuntimeError(f"windows left words of sentences {missing[:5]} without a prediction")
    return preds
