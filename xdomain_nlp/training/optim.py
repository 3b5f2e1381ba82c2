"""Parameter groups for transfer: frozen embeddings, frozen lower layers, layer-wise decay.

Cross-lingual transfer depends on the encoder's shared multilingual space. Freezing the word
embeddings keeps German pieces where pretraining put them (they get no English gradient), and
decaying the learning rate towards the lower layers keeps the language-general features there.
"""

from __future__ import annotations

import re

from torch import nn

_LAYER = re.compile(r"\.layers?\.(\d+)\.")


def layer_of(name: str, n_layers: int) -> int:
    """Depth of a parameter: 0 for embeddings, i+1 for encoder layer i, n+1 for the head."""
    if "embeddings" in name:
        return 0
    m = _LAYER.search(name)
    if m:
        return int(m.group(1)) + 1
    return n_layers + 1


def transfer_param_groups(
    model: nn.Module,
    *,
    lr: float,
    head_lr: float | None = None,
    layer_decay: float = 1.0,
    weight_decay: float = 0.01,
    freeze_embeddings: bool = True,
    freeze_layers: int = 0,
) -> list[dict]:
    """AdamW groups: ``lr * layer_decay**(depth from top)``; frozen parameters get no grad."""
    n_layers = max((int(m.group(1)) + 1 for n, _ in model.named_parameters() if (m := _LAYER.search(n))), default=0)
    groups: dict[tuple[int, bool], dict] = {}
    for name, param in model.named_parameters():
        depth = layer_of(name, n_layers)
        frozen = (depth == 0 and freeze_embeddings) or (1 <= depth <= freeze_layers)
        param.requires_grad_(not frozen)
        if frozen:
            continue
        no_decay = param.ndim == 1
        if depth == n_layers + 1:
            group_lr = head_lr if head_lr is not None else lr
        else:
            group_lr = lr * layer_decay ** (n_layers + 1 - depth)
        key = (depth, no_decay)
        if key not in groups:
            groups[key] = {"params": [], "lr": group_lr, "weight_decay": 0.0 if no_decay else weight_decay}
        groups[key]["params"].append(param)
    return [groups[k] for k in sorted(groups)]
