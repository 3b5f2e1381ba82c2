"""Mapping heads: a target tag set on top of a tagger trained on a source tag set.

The head scores target tag ``t`` for a word with encoder state ``h`` as

    log( sum_s p(s | h) * P(t | s) )  +  W h + b

where ``p(s | h)`` is the frozen source tagger's distribution and ``P(t | s)`` starts at the
mapping prior (and is learned, as logits per source row). ``W`` and ``b`` start at zero, so with
no target example the head predicts exactly what the prior allows from the source prediction;
target examples then teach it what the prior cannot know (NN vs NE for a German NOUN/PROPN
confusion, unreachable tags). The encoder stays frozen: with tens of sentences a tuned encoder
overfits, and a frozen one lets the states be computed once, so training takes seconds.

With ``allowed`` (source x target, boolean) the head is constrained to a declared table: each
source tag can only become its allowed targets, and the state decides among them,

    log sum_s p(s | h) * softmax_{t allowed for s}( logit P(t | s) + W h )_t

so a source tag with one allowed target is passed through unchanged whatever ``W`` learns. That
is what a convention head wants (only English possessive PRON may become German DET).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from xdomain_nlp.errors import InputError


class MappingHead(nn.Module):
    def __init__(
        self,
        hidden_size: int,
        prior: np.ndarray,
        *,
        floor: float = 1e-4,
        feature_layers: tuple[int, int] = (4, 12),
        allowed: np.ndarray | torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.feature_layers = tuple(feature_layers)  # which encoder layers' mean the residual reads
        prior = torch.as_tensor(prior, dtype=torch.float32)
        self.n_source, self.n_target = prior.shape
        # Rows of P(t | s) as learnable logits; the floor keeps every target tag reachable by learning.
        self.prior_logits = nn.Parameter((prior + floor).log())
        self.residual = nn.Linear(hidden_size, self.n_target)
        nn.init.zeros_(self.residual.weight)
        nn.init.zeros_(self.residual.bias)
        if allowed is not None:
            allowed = torch.as_tensor(allowed, dtype=torch.bool)
            if allowed.shape != prior.shape or not allowed.any(-1).all():
                raise InputError(f"allowed must be {tuple(prior.shape)} with a target for every source tag")
            self.register_buffer("allowed", allowed)
        else:
            self.allowed = None

    def forward(self, hidden: torch.Tensor, source_logits: torch.Tensor) -> torch.Tensor:
        """Target logits for word states ``hidden`` (N, H) given the source head's logits (N, S)."""
        log_ps = source_logits.float().log_softmax(-1)  # (N, S)
        if self.allowed is not None:
            scores = self.prior_logits.unsqueeze(0) + self.residual(hidden.float()).unsqueeze(1)  # (N, S, T)
            log_pt_given_sh = scores.masked_fill(~self.allowed, float("-inf")).log_softmax(-1)
            return torch.logsumexp(log_ps.unsqueeze(-1) + log_pt_given_sh, dim=1)
        log_pt_given_s = self.prior_logits.log_softmax(-1)  # (S, T)
        mixed = torch.logsumexp(log_ps.unsqueeze(-1) + log_pt_given_s.unsqueeze(0), dim=1)  # (N, T)
        return mixed + self.residual(hidden.float())
