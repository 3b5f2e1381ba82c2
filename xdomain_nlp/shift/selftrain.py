"""Self-training and soft weight sharing: adapting to the target when P(Y|X) differs.

Context feature bias ("monitor" a noun in reports, a verb in patient notes) cannot be fixed by
re-weighting source examples: the source labels themselves disagree with the target. Two tools:

- `select_pseudo_labels`: the model's own confident target predictions become training labels.
  A single global threshold keeps mostly the easy classes (punctuation, determiners) and starves
  the rare ones; with ``balance`` each class keeps its most confident share instead.
- `L2SP`: fine-tuning pulls the weights towards the target, a penalty ||w - w_source||^2 keeps
  them near the source solution (Li, Grandvalet & Davoine 2018), so few or noisy target labels
  cannot drag the model far.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

IGNORE = -100


def select_pseudo_labels(
    pred: Sequence[Sequence[int]],
    prob: Sequence[Sequence[float]],
    *,
    threshold: float = 0.9,
    balance: bool = True,
    n_classes: int | None = None,
) -> tuple[list[list[int]], dict]:
    """Labels per word with unselected words set to -100 (ignored by the loss), and a summary.

    Without ``balance``: keep words with probability >= ``threshold``. With ``balance``: the
    global threshold fixes the share of words kept, and every predicted class keeps that share
    of its own most confident words (at least the words above the threshold).
    """
    flat_p = np.array([p for row in prob for p in row], dtype=np.float64)
    flat_y = np.array([y for row in pred for y in row], dtype=np.int64)
    keep = flat_p >= threshold
    if balance and len(flat_p):
        share = keep.mean()
        for c in np.unique(flat_y):
            idx = np.flatnonzero(flat_y == c)
            k = int(np.ceil(share * len(idx)))
            top = idx[np.argsort(-flat_p[idx])[:k]]
            keep[top] = True
    labels = np.where(keep, flat_y, IGNORE)
    out, start = [], 0
    for row in pred:
        out.append(labels[start : start + len(row)].tolist())
        start += len(row)
    n = n_classes or (int(flat_y.max()) + 1 if len(flat_y) else 0)
    summary = {
        "words": int(len(flat_p)),
        "kept": int(keep.sum()),
        "kept_share": float(keep.mean()) if len(flat_p) else 0.0,
        "kept_per_class": np.bincount(flat_y[keep], minlength=n).tolist(),
        "predicted_per_class": np.bincount(flat_y, minlength=n).tolist(),
    }
    return out, summary


class L2SP:
    """alpha/2 * ||w - w_source||^2 over the encoder's weights (and beta/2 * ||w||^2 over new ones)."""

    def __init__(self, model: nn.Module, alpha: float = 0.01, beta: float = 0.0, skip: Sequence[str] = ()) -> None:
        self.alpha, self.beta = alpha, beta
        self.anchor = {n: p.detach().clone() for n, p in model.named_parameters() if not any(s in n for s in skip)}

    def penalty(self, model: nn.Module) -> torch.Tensor:
        total = None
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            if name in self.anchor:
                term = 0.5 * self.alpha * (param - self.anchor[name].to(param.device)).pow(2).sum()
            elif self.beta:
                term = 0.5 * self.beta * param.pow(2).sum()
            else:
                continue
            total = term if total is None else total + term
        return total if total is not None else torch.zeros(())
