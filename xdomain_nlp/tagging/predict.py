"""Inference: tag whole corpora fast, windows stitched back into sentences."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from xdomain_nlp.devices import CPU, autocast, model_device, to_device
from xdomain_nlp.tagging.alignment import EncodedWindow
from xdomain_nlp.tagging.data import collate_windows
from xdomain_nlp.tagging.network import TokenTagger
from xdomain_nlp.training.sampler import token_budget_batches


def predict_windows(
    model: TokenTagger,
    windows: Sequence[EncodedWindow],
    n_sentences: int,
    *,
    pad_id: int,
    max_tokens: int = 8192,
    autocast_dtype: torch.dtype | None = None,
    tag_set: str | None = None,
) -> tuple[list[list[int]], list[list[float]]]:
    """Best label id and its probability for every word of every sentence, on the model's device.

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
    autocast_dtype: torch.dtype | None = None,
) -> list[tuple[list[list[int]], list[list[float]]]]:
    """`predict_windows` for several tag sets at once (one encoder pass; ``None`` = the source set)."""
    was_training = model.training
    model.eval()
    device = model_device(model)
    sizes = [0] * n_sentences
    for w in windows:
        sizes[w.sentence] = max(sizes[w.sentence], max(w.word_indices, default=-1) + 1)
    preds = [([[-1] * n for n in sizes], [[0.0] * n for n in sizes]) for _ in tag_sets]
    # Results stay on the device until the end: no wait for the GPU between batches.
    done: list[tuple[list[EncodedWindow], list[tuple[torch.Tensor, torch.Tensor]]]] = []
    for batch_ids in token_budget_batches([len(w.input_ids) for w in windows], max_tokens):
        batch = [windows[i] for i in batch_ids]
        tensors = to_device(collate_windows(batch, pad_id), device)
        with autocast(device, autocast_dtype):
            all_logits = model.forward_tag_sets(
                tensors["input_ids"], tensors["attention_mask"], tensors["word_index"], list(tag_sets)
            )
        done.append((batch, [logits.float().softmax(-1).max(-1) for logits in all_logits]))
    for t, (pred, prob) in enumerate(preds):
        if not done:
            break
        best_p = torch.cat([results[t][0] for _, results in done]).to(CPU).tolist()
        best = torch.cat([results[t][1] for _, results in done]).to(CPU).tolist()
        k = 0
        for batch, _ in done:
            for w in batch:  # a window owns a run of consecutive words
                n = len(w.word_indices)
                if n:
                    first = w.word_indices[0]
                    pred[w.sentence][first : first + n] = best[k : k + n]
                    prob[w.sentence][first : first + n] = best_p[k : k + n]
                    k += n
    model.train(was_training)
    missing = [i for i, row in enumerate(preds[0][0]) if -1 in row] if preds else []
    if missing:
        raise RuntimeError(f"windows left words of sentences {missing[:5]} without a prediction")
    return preds
