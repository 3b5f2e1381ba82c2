"""Training a small head on cached word features, through the package's one loop."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from xdomain_nlp.training import PermutationBatchSampler, SingleProcess, fit, weighted_cross_entropy


def train_head(
    head: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    labels: torch.Tensor,
    *,
    epochs: int = 60,
    lr: float = 5e-3,
    weight_decay: float = 1e-2,
    batch_size: int = 256,
    seed: int = 0,
    weights: torch.Tensor | None = None,
    device: torch.device | str | None = None,
) -> nn.Module:
    """Fit a head on precomputed word features (deterministic per seed); ``weights`` scale each
    word's loss (projected source words count less than target words).

    ``device``: where to train (default: where the features are). A GPU pays here: a head on the
    words of 2,000 sentences takes 8,000 small steps."""
    if labels.numel() == 0:
        return head
    device = torch.device(device) if device is not None else labels.device
    head.to(device)
    inputs = tuple(x.to(device) for x in inputs)
    labels = labels.to(device)
    weights = None if weights is None else weights.to(device)
    sampler = PermutationBatchSampler(labels.numel(), batch_size, seed=seed)

    def collate(batch: list[list[int]]) -> dict:
        (idx,) = batch
        idx = torch.tensor(idx, device=device)
        return {
            "inputs": tuple(x[idx] for x in inputs),
            "labels": labels[idx],
            "weights": None if weights is None else weights[idx],
        }

    loader = DataLoader([*range(labels.numel())], batch_sampler=sampler, collate_fn=lambda b: collate([b]))
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    fit(
        head,
        optimizer,
        loader,
        lambda model, batch: weighted_cross_entropy(model(*batch["inputs"]), batch["labels"], batch["weights"]),
        accelerator=SingleProcess(device),
        epochs=epochs,
        desc="head",
    )
    return head
