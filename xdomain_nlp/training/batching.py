"""How a recipe's training is batched, stepped and scheduled: written once for every recipe.

Batches are counted in sentences (``batch_size``) or in subword pieces (``batch_tokens``). A
GPU is busy only with large batches: its step costs about the same from 32 to 512 sentences
(../shared/GPU.md), so ``batch_tokens: auto`` keeps the CPU's batches of ``batch_size`` and gives
a GPU a budget of `GPU_BATCH_TOKENS` pieces per process. The learning rates were tuned for
``batch_size``; with a budget they grow with the square root of the sentences a batch really
holds (Hoffer et al., 2017: the noise of a step falls with the root of its batch), and the epochs
by the same factor, so that a run takes the same sum of step sizes as the configured one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch.utils.data import Sampler

from xdomain_nlp.training.config import ConfigError
from xdomain_nlp.training.sampler import LengthGroupedBatchSampler, TokenBudgetBatchSampler

GPU_BATCH_TOKENS = 16384  # pieces per process and step on a GPU: 512 EWT sentences, 45 ms a step on an H200


def per_process_batch_size(cfg: Any, accelerator: Any) -> int:
    """Sentences per batch in each process: ``batch_size``, or the share of ``global_batch_size``
    (per optimizer step, over all processes and accumulation steps) that gives the same
    optimisation on 1 or N processes."""
    return _share(getattr(cfg, "global_batch_size", 0), "global_batch_size", accelerator) or cfg.batch_size


def per_process_batch_tokens(cfg: Any, accelerator: Any) -> int:
    """Pieces per batch in each process, or 0 for batches of `per_process_batch_size` sentences.

    ``global_batch_tokens`` (all processes and accumulation steps) wins over ``batch_tokens``;
    ``batch_tokens: auto`` is 0 on a CPU and `GPU_BATCH_TOKENS` on a GPU."""
    shared = _share(getattr(cfg, "global_batch_tokens", 0), "global_batch_tokens", accelerator)
    if shared:
        return shared
    setting = getattr(cfg, "batch_tokens", 0)
    if setting == "auto":
        return GPU_BATCH_TOKENS if torch.device(accelerator.device).type == "cuda" else 0
    return int(setting)


def _share(total: int, name: str, accelerator: Any) -> int:
    if not total:
        return 0
    share = accelerator.num_processes * getattr(accelerator, "gradient_accumulation_steps", 1)
    if total % share:
        raise ConfigError(
            f"{name} = {total}: must split evenly over {accelerator.num_processes} process(es) x "
            f"{share // accelerator.num_processes} accumulation step(s)"
        )
    return total // share


def train_batches(
    cfg: Any, accelerator: Any, lengths: Sequence[int], *, seed: int, by_length: bool = True
) -> LengthGroupedBatchSampler | TokenBudgetBatchSampler:
    """The batch sampler of a recipe's training set (``lengths``: pieces per item).

    Its order is a function of ``(seed, epoch)`` (what exact resume needs), and it deals every
    process the same number of batches, every item once per epoch. Batches of sentences group
    similar lengths unless ``by_length`` is False (then they are plain random batches); a token
    budget always does, or the budget would be spent on padding."""
    tokens = per_process_batch_tokens(cfg, accelerator)
    shards = accelerator.num_processes
    if tokens:
        return TokenBudgetBatchSampler(lengths, tokens, seed=seed, shards=shards)
    size = per_process_batch_size(cfg, accelerator)
    if not by_length:
        return LengthGroupedBatchSampler([1] * len(lengths), size, seed=seed, group_size=1, shards=shards)
    return LengthGroupedBatchSampler(lengths, size, seed=seed, shards=shards)


def lr_scale(cfg: Any, accelerator: Any, sampler: Sampler) -> float:
    """The factor on the configured learning rates: 1 for batches of ``batch_size``; for token
    budgets, sqrt(sentences per batch / batch_size)."""
    if not isinstance(sampler, TokenBudgetBatchSampler):
        return 1.0
    return math.sqrt(sampler.mean_items_per_batch() / per_process_batch_size(cfg, accelerator))


def scaled_epochs(epochs: int, scale: float) -> int:
    """Epochs to train at ``scale`` = `lr_scale`: the configured ``epochs`` times the scale, rounded.

    A batch k times larger takes k times fewer steps an epoch, each sqrt(k) times larger: without
    more epochs the run would travel sqrt(k) times less far (the sum of its step sizes). With
    sqrt(k) times the epochs it travels as far as the configured run, in sqrt(k) times fewer steps."""
    return max(1, round(epochs * scale))


def scheduler_steps(batches_per_epoch: int, epochs: int, accelerator: Any) -> int:
    """The length of a schedule prepared by ``accelerate``: optimizer steps per process (a partial
    accumulation at an epoch's end steps too), times the processes (a prepared scheduler advances
    once per process and step). ``batches_per_epoch`` counts all processes' batches."""
    processes = accelerator.num_processes
    accumulation = getattr(accelerator, "gradient_accumulation_steps", 1)
    per_process = math.ceil(batches_per_epoch / processes)
    return math.ceil(per_process / accumulation) * epochs * processes


def make_optimizer(groups: Iterable[dict], lr: float, accelerator: Any, **settings: Any) -> torch.optim.AdamW:
    """AdamW over ``groups``; on a GPU its fused kernel (one launch for all parameters)."""
    fused = torch.device(accelerator.device).type == "cuda"
    return torch.optim.AdamW(groups, lr=lr, fused=fused or None, **settings)


def loader_settings(accelerator: Any, *, workers: bool = True) -> dict[str, Any]:
    """``DataLoader`` settings for where the batches go: on a GPU, pinned host memory (copied
    without waiting) and two worker processes collating ahead of the step. ``workers=False`` for a
    collate function that draws random numbers (a worker's generator would change the draws)."""
    if torch.device(accelerator.device).type != "cuda":
        return {}
    if not workers:
        return {"pin_memory": True}
    return {"pin_memory": True, "num_workers": 2, "persistent_workers": True, "prefetch_factor": 4}
