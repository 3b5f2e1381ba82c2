"""Inference: tag whole corpora fast, windows stitched back into sentences."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

import torch

from xdomain_nlp.tagging.alignment import EncodedWindow
from xdomain_nlp.tagging.data import collate_windows
from xdomain_nlp.tagging.model import TokenTagger


def token_budget_batches(lengths: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Group indices, longest first, into batches of at most ``max_tokens`` padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches, current, longest = [], [], 0
    for i in order:
        longest_if_added = max(longest, lengths[i])
        if current and longest_if_added * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, longest_if_added = [], lengths[i]
        current.append(i)
        longest = longest_if_added
    if current:
        batches.append(current)
    return batches


@torch.inference_mode()
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
    was_training = model.training
    model.eval()
    device = torch.device(device)
    sizes = [0] * n_sentences
    for w in windows:
        sizes[w.sentence] = max(sizes[w.sentence], max(w.word_indices, default=-1) + 1)
    pred = [[-1] * n for n in sizes]
    prob = [[0.0] * n for n in sizes]
    amp = torch.autocast(device.type, dtype=autocast_dtype) if autocast_dtype else nullcontext()
    for batch_ids in token_budget_batches([len(w.input_ids) for w in windows], max_tokens):
        batch = [windows[i] for i in batch_ids]
        tensors = collate_windows(batch, pad_id)
        with amp:
            logits = model(
                tensors["input_ids"].to(device),
                tensors["attention_mask"].to(device),
                tensors["word_index"].to(device),
                tag_set=tag_set,
            )
        best_p, best = logits.float().softmax(-1).max(-1)
        best, best_p = best.tolist(), best_p.tolist()
        k = 0
        for w in batch:
            for word in w.word_indices:
                pred[w.sentence][word] = best[k]
                prob[w.sentence][word] = best_p[k]
                k += 1
    model.train(was_training)
    missing = [i for i, row in enumerate(pred) if -1 in row]
    if missing:
        raise RuntimeError(f"windows left words of sentences {missing[:5]} without a prediction")
    return pred, prob
