"""Losses with instance weights: what every task's ``loss_fn`` reduces its items with."""

from __future__ import annotations

import torch
from torch.nn import functional


def weighted_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Cross-entropy averaged over the items whose label is not -100, each counted ``weights[i]`` times.

    Without weights this is ``functional.cross_entropy``'s mean; with them it is the weighted mean
    that instance re-weighting (p_target / p_source per sentence) and class balancing ask for.
    """
    keep = labels != -100
    losses = functional.cross_entropy(logits.float()[keep], labels[keep], reduction="none")
    if weights is None:
        return losses.mean() if losses.numel() else losses.sum()
    w = weights.to(losses.dtype)[keep]
    return (losses * w).sum() / w.sum().clamp_min(1e-8)
