"""Length-grouped batches (training) and token-budget batches (inference): little compute on padding."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from torch.utils.data import Sampler


class LengthGroupedBatchSampler(Sampler[list[int]]):
    """Shuffle, cut into mega-batches of ``group_size`` batches, sort each by length, batch.

    Batches keep the randomness of the shuffle (their order is shuffled again) while each
    holds items of similar length. Set ``epoch`` before iterating to reshuffle; the order is a
    function of ``(seed, epoch)`` only, which is what makes a resumed run repeat the original.
    """

    def __init__(
        self, lengths: Sequence[int], batch_size: int, *, seed: int = 0, group_size: int = 64, shuffle: bool = True
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.group_size = group_size
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        order = list(range(len(self.lengths)))
        if not self.shuffle:
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        rng = random.Random(self.seed * 100_003 + self.epoch)
        rng.shuffle(order)
        mega = self.batch_size * self.group_size
        batches = []
        for i in range(0, len(order), mega):
            group = sorted(order[i : i + mega], key=lambda j: self.lengths[j], reverse=True)
            batches.extend(group[k : k + self.batch_size] for k in range(0, len(group), self.batch_size))
        rng.shuffle(batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)


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
