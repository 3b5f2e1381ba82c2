"""Seeded choice of the k labelled sentences a few-shot method learns from."""

from __future__ import annotations

import random


def sample_sentences(n: int, k: int, seed: int) -> list[int]:
    """k sentence indices out of n, the same for the same seed (k = -1 or k >= n: all)."""
    if k < 0 or k >= n:
        return list(range(n))
    return sorted(random.Random(seed).sample(range(n), k))
