"""Relational graph convolution (Schlichtkrull et al. 2018) over encoder word states.

Each relation type has its own transform, built from a few shared bases so that rare types
(``neg`` is a small share of arcs) borrow strength from frequent ones. Messages are averaged
per receiving word, and the layer is residual: with no edges it passes states through, which
is what makes dropping one relation type at test time a clean ablation.
"""

from __future__ import annotations

import torch
from torch import nn


class RelationalGraphLayer(nn.Module):
    def __init__(self, dim: int, num_relations: int, num_bases: int = 8, dropout: float = 0.1) -> None:
        super().__init__()
        self.bases = nn.Parameter(torch.empty(num_bases, dim, dim))
        nn.init.xavier_uniform_(self.bases.view(num_bases * dim, dim))
        self.coefficients = nn.Parameter(torch.randn(num_relations, num_bases) / num_bases**0.5)
        self.self_loop = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(
        self, h: torch.Tensor, edge_src: torch.Tensor, edge_dst: torch.Tensor, edge_type: torch.Tensor
    ) -> torch.Tensor:
        """``h`` is ``[words, dim]`` for a whole batch; edges index into it."""
        messages = h.new_zeros(h.shape)
        if edge_src.numel():
            projected = torch.einsum("nd,bde->nbe", h, self.bases)  # every word through every basis
            per_edge = (projected[edge_src] * self.coefficients[edge_type][:, :, None]).sum(1)
            messages = messages.index_add(0, edge_dst, per_edge)
            degree = torch.zeros(h.shape[0], device=h.device, dtype=h.dtype).index_add(
                0, edge_dst, torch.ones_like(edge_dst, dtype=h.dtype)
            )
            messages = messages / degree.clamp(min=1)[:, None]
        return self.norm(h + self.drop(nn.functional.gelu(self.self_loop(h) + messages)))
