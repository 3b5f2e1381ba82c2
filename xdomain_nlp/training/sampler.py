"""Length-grouped batches (training) and token-budget batches (inference): little compute on padding."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import Sampler

from xdomain_nlp.errors import InputError


class LengthGroupedBatchSampler(Sampler[list[int]]):
    """Shuffle, cut into mega-batches of ``group_size`` batches, sort each by length, batch.

    Batches keep the randomness of the shuffle (their order is shuffled again) while each
    holds items of similar length. Set ``epoch`` before iterating to reshuffle; the order is a
    function of ``(seed, epoch)`` only, which is what makes a resumed run repeat the original.

    ``shards``: the number of processes the batches are dealt to (accelerate gives batch i to
    process i mod shards). The largest batches are halved until the count is a multiple of it, so
    every process takes the same number of steps and every item is trained on exactly once per
    epoch: no batch is dropped and none is padded with repeats.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        seed: int = 0,
        group_size: int = 64,
        shuffle: bool = True,
        shards: int = 1,
    ) -> None:
        if batch_size < 1:
            raise InputError(f"batch_size must be positive, got {batch_size}")
        if shards < 1:
            raise InputError(f"shards must be positive, got {shards}")
        steps = -(-len(lengths) // batch_size)
        if -(-steps // shards) * shards > len(lengths):
            raise InputError(
                f"{len(lengths)} training items in batches of {batch_size} cannot give {shards} processes the same "
                "number of steps without repeating items; use more items or a larger batch"
            )
        self.lengths = list(lengths)
        self.max_batch_size = batch_size
        # Batches vary in size (the short one lands anywhere in the epoch): accelerate's sharding
        # must not wait for a full batch, or it silently drops a group of batches.
        self.batch_size = None
        self.seed = seed
        self.group_size = group_size
        self.shuffle = shuffle
        self.shards = shards
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        order = list(range(len(self.lengths)))
        size = self.max_batch_size
        if not self.shuffle:
            return self._even([order[i : i + size] for i in range(0, len(order), size)])
        rng = random.Random(self.seed * 100_003 + self.epoch)
        rng.shuffle(order)
        mega = size * self.group_size
        batches = []
        for i in range(0, len(order), mega):
            group = sorted(order[i : i + mega], key=lambda j: self.lengths[j], reverse=True)
            batches.extend(group[k : k + size] for k in range(0, len(group), size))
        rng.shuffle(batches)
        return self._even(batches)

    def _even(self, batches: list[list[int]]) -> list[list[int]]:
        """Halve the largest batches (in place in the order) until ``shards`` divides their count."""
        while len(batches) % self.shards:
            i = max(range(len(batches)), key=lambda j: len(batches[j]))
            half = (len(batches[i]) + 1) // 2
            batches[i : i + 1] = [batches[i][:half], batches[i][half:]]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def __len__(self) -> int:
        batches = -(-len(self.lengths) // self.max_batch_size)
        return -(-batches // self.shards) * self.shards


class TokenBudgetBatchSampler(Sampler[list[int]]):
    """Training batches of at most ``max_tokens`` padded pieces: long windows few to a batch, short many.

    Each epoch the items are sorted by length (ties broken by a shuffle that is a function of
    ``(seed, epoch)``), cut greedily into batches within the budget, and the batches shuffled. The
    cut depends only on the lengths, so every epoch has the same number of batches (the
    scheduler's length is known before training) while their members change from epoch to
    epoch; padding is nearly nil. ``shards`` as in `LengthGroupedBatchSampler`: the largest batches
    are halved until the processes get the same number of steps, and every item is trained on
    exactly once per epoch. An item longer than the budget is a batch of its own.
    """

    def __init__(
        self, lengths: Sequence[int], max_tokens: int, *, seed: int = 0, shuffle: bool = True, shards: int = 1
    ) -> None:
        if max_tokens < 1:
            raise InputError(f"batch_tokens must be positive, got {max_tokens}")
        if shards < 1:
            raise InputError(f"shards must be positive, got {shards}")
        self.lengths = list(lengths)
        self.max_tokens = max_tokens
        self.seed, self.shuffle, self.shards = seed, shuffle, shards
        self.epoch = 0
        self.batch_size = None  # batches vary in size (see LengthGroupedBatchSampler)
        self._count = len(self._even(token_budget_batches(self.lengths, max_tokens)))
        if self._count % shards:
            raise InputError(
                f"{len(self.lengths)} training items cannot give {shards} processes the same number of batches "
                "without repeating items; use more items or fewer processes"
            )

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list[list[int]]:
        rng = random.Random(self.seed * 100_003 + self.epoch)
        order = list(range(len(self.lengths)))
        if self.shuffle:
            rng.shuffle(order)  # the tie-break among equal lengths
        batches = token_budget_batches([self.lengths[i] for i in order], self.max_tokens)
        batches = [[order[j] for j in batch] for batch in batches]
        if self.shuffle:
            rng.shuffle(batches)
        return self._even(batches)

    def _even(self, batches: list[list[int]]) -> list[list[int]]:
        while len(batches) % self.shards:
            i = max(range(len(batches)), key=lambda j: len(batches[j]))
            if len(batches[i]) < 2:
                break  # nothing left to split; __init__ refuses such a run
            half = (len(batches[i]) + 1) // 2
            batches[i : i + 1] = [batches[i][:half], batches[i][half:]]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches())

    def __len__(self) -> int:
        return self._count

    def mean_items_per_batch(self) -> float:
        return len(self.lengths) / max(self._count, 1)


def token_budget_batches(lengths: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Group indices, longest first, into batches of at most ``max_tokens`` padded tokens (a stable
    sort: among equal lengths the given order is kept)."""
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


class CyclingBatchSampler(Sampler[list[int]]):
    """``steps`` batches drawn from reshuffled passes over ``n`` items, one pass after another.

    For step-based training on few examples (k target sentences, fewer than a batch): a batch
    may span the end of one pass and the start of the next. The order is a function of
    ``(seed, epoch)``.
    """

    def __init__(self, n: int, batch_size: int, steps: int, *, seed: int = 0) -> None:
        if n < 1 or batch_size < 1:
            raise InputError(f"need at least one item and a positive batch size, got n={n}, batch_size={batch_size}")
        self.n, self.batch_size, self.steps, self.seed = n, batch_size, steps, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[int]]:
        rng = random.Random(self.seed if self.epoch == 0 else self.seed * 100_003 + self.epoch)
        queue: list[int] = []
        for _ in range(self.steps):
            while len(queue) < self.batch_size:
                queue += rng.sample(range(self.n), self.n)
            batch, queue = queue[: self.batch_size], queue[self.batch_size :]
            yield batch

    def __len__(self) -> int:
        return self.steps


class PermutationBatchSampler(Sampler[list[int]]):
    """Each pass a fresh ``torch.randperm`` from one seeded generator, cut into batches (the last
    one shorter): the batching of feature-level head training."""

    def __init__(self, n: int, batch_size: int, *, seed: int = 0) -> None:
        self.n, self.batch_size = n, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def set_epoch(self, epoch: int) -> None:  # stateful: each pass draws on from the generator
        pass

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.n, generator=self.generator).tolist()
        for start in range(0, self.n, self.batch_size):
            yield order[start : start + self.batch_size]

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)


def set_epoch(loader: Any, epoch: int) -> None:
    """Give ``epoch`` to the loader and every batch sampler it wraps (accelerate's shard wrapper
    does not reach a custom batch sampler in several processes, so walk the chain)."""
    seen, obj = set(), loader
    while obj is not None and id(obj) not in seen:
        seen.add(id(obj))
        if hasattr(obj, "set_epoch"):
            obj.set_epoch(epoch)
        obj = getattr(obj, "batch_sampler", None)


def leave(loader: Any) -> None:
    """Tell accelerate that iteration over ``loader`` stopped before its end (it is told only at the
    end), so that the next loop in this process does not see this one as still running."""
    end = getattr(loader, "end", None)  # accelerate's prepared loaders; a plain DataLoader has none
    if end is not None:
        end()
