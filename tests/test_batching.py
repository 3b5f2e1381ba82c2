"""Batches sized in pieces: every window once per epoch on 1 and 2 processes, within the budget, the
same order after a resume; the schedule's length under accumulation; the learning-rate scale."""

import math
import random
from dataclasses import dataclass

import pytest
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import POSTransferConfig
from xdomain_nlp.training import (
    GPU_BATCH_TOKENS,
    CheckpointDir,
    ConfigError,
    LengthGroupedBatchSampler,
    TokenBudgetBatchSampler,
    fit,
    load_config,
    lr_scale,
    per_process_batch_tokens,
    scheduler_steps,
    train_batches,
)

LENGTHS = [random.Random(3).randint(3, 90) for _ in range(500)] + [400]  # one window over a small budget


@pytest.mark.parametrize("shards", [1, 2])
def test_every_window_once_per_epoch_within_the_budget(shards):
    sampler = TokenBudgetBatchSampler(LENGTHS, 1024, seed=5, shards=shards)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(batches) == len(sampler) and len(batches) % shards == 0  # the same count every epoch
        assert sorted(i for b in batches for i in b) == list(range(len(LENGTHS)))
        for batch in batches:
            padded = max(LENGTHS[i] for i in batch) * len(batch)
            assert padded <= 1024 or len(batch) == 1  # a window over the budget goes alone
        for rank in range(shards):  # accelerate deals batch i to process i mod shards
            mine = batches[rank::shards]
            assert len(mine) == len(batches) // shards


def test_batches_change_between_epochs_and_repeat_for_a_seed():
    sampler = TokenBudgetBatchSampler(LENGTHS, 1024, seed=5)
    sampler.set_epoch(0)
    first = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != first
    again = TokenBudgetBatchSampler(LENGTHS, 1024, seed=5)
    again.set_epoch(0)
    assert list(again) == first
    padding = sum(max(LENGTHS[i] for i in b) * len(b) for b in first) / sum(LENGTHS)
    assert padding < 1.1  # sorted by length: a budget is spent on pieces, not on padding


def test_too_few_items_for_the_processes_is_refused():
    with pytest.raises(ValueError, match="cannot give 2 processes the same number of batches"):
        TokenBudgetBatchSampler([5], 64, shards=2)


def regression_run(out, **kwargs):
    """A small network trained through `fit` on token-budget batches, with checkpoints."""
    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)
    lengths = [random.Random(1).randint(1, 12) for _ in range(80)]
    x = torch.randn(80, 8)
    y = (x @ torch.randn(8, 1)).squeeze(-1)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Dropout(0.1), torch.nn.Linear(16, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sampler = TokenBudgetBatchSampler(lengths, 48, seed=1)
    loader = DataLoader(
        list(range(len(x))), batch_sampler=sampler, generator=torch.Generator().manual_seed(0),
        collate_fn=lambda idx: {"x": x[idx], "y": y[idx]},
    )  # fmt: skip
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)

    def loss(model, batch):
        return (model(batch["x"]).squeeze(-1) - batch["y"]).square().mean()

    result = fit(
        model, optimizer, loader, loss, accelerator=accelerator, epochs=3, checkpoints=CheckpointDir(out / "ckpt"),
        checkpoint_every=4, count_items=lambda b: len(b["y"]), log_every=3, **kwargs,
    )  # fmt: skip
    return result, torch.cat([p.detach().flatten() for p in model.parameters()])


def test_a_killed_run_on_token_batches_resumes_to_the_same_weights(tmp_path):
    straight, weights = regression_run(tmp_path / "straight")
    stopped, _ = regression_run(tmp_path / "resumed", stop_after_steps=6)
    assert not stopped.finished and stopped.state.step == 6
    resumed, resumed_weights = regression_run(tmp_path / "resumed")
    assert resumed.resumed_from.endswith("step_6") and resumed.state.step == straight.state.step
    assert torch.equal(resumed_weights, weights)
    # The loss was read every 3 steps, before each checkpoint (every 4) and at epoch ends (every 5), not at every step.
    steps = [c["step"] for c in straight.state.curve]
    assert len(steps) < straight.state.step and all(s % 3 == 0 or s % 4 == 0 or s % 5 == 0 for s in steps)


@pytest.mark.parametrize("accumulation", [1, 2])
def test_the_schedule_ends_where_the_optimizer_stops(accumulation):
    """A linear decay reaches 0 at the last optimizer step, also with accumulation (5 batches an epoch:
    3 optimizer steps each, the last on a partial accumulation)."""
    accelerator = Accelerator(cpu=True, gradient_accumulation_steps=accumulation)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    sampler = LengthGroupedBatchSampler([1] * 20, 4, seed=0, group_size=1)
    loader = DataLoader(list(range(20)), batch_sampler=sampler, collate_fn=lambda idx: {"x": torch.randn(len(idx), 4)})
    steps = scheduler_steps(len(sampler), 2, accelerator)
    assert steps == math.ceil(5 / accumulation) * 2
    scheduler = get_linear_schedule_with_warmup(optimizer, 0, steps)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    result = fit(model, optimizer, loader, lambda m, b: m(b["x"]).square().mean(), accelerator=accelerator,
                 scheduler=scheduler, epochs=2)  # fmt: skip
    assert result.state.step == steps
    assert optimizer.param_groups[0]["lr"] == 0.0  # decayed to the end, not stopped half-way


@dataclass
class Settings:
    batch_size: int = 32
    batch_tokens: int | str = "auto"
    global_batch_size: int = 0
    global_batch_tokens: int = 0


@dataclass
class Machine:
    device: str = "cpu"
    num_processes: int = 1
    gradient_accumulation_steps: int = 1


def test_auto_keeps_sentence_batches_on_a_cpu_and_takes_a_budget_on_a_gpu():
    assert per_process_batch_tokens(Settings(), Machine("cpu")) == 0
    assert per_process_batch_tokens(Settings(), Machine("cuda")) == GPU_BATCH_TOKENS
    assert per_process_batch_tokens(Settings(batch_tokens=4096), Machine("cpu")) == 4096
    assert per_process_batch_tokens(Settings(global_batch_tokens=8192), Machine("cpu", 2, 2)) == 2048
    with pytest.raises(ConfigError, match="global_batch_tokens = 1000: must split evenly over 3 process"):
        per_process_batch_tokens(Settings(global_batch_tokens=1000), Machine("cpu", 3))
    sampler = train_batches(Settings(), Machine("cpu"), LENGTHS, seed=0)
    assert isinstance(sampler, LengthGroupedBatchSampler) and lr_scale(Settings(), Machine(), sampler) == 1.0


def test_a_budget_scales_the_learning_rate_by_the_root_of_its_sentences():
    sampler = train_batches(Settings(batch_tokens=2048), Machine(), LENGTHS, seed=0)
    per_batch = len(LENGTHS) / len(sampler)
    assert lr_scale(Settings(batch_tokens=2048), Machine(), sampler) == pytest.approx(math.sqrt(per_batch / 32))


def test_batch_tokens_setting_is_checked():
    assert load_config(POSTransferConfig, None, ["batch_tokens=4096"]).batch_tokens == 4096
    assert load_config(POSTransferConfig, None, ["batch_tokens=auto"]).batch_tokens == "auto"
    with pytest.raises(ConfigError, match="batch_tokens = 'lots': a number of pieces, 0 .batch_size. or auto"):
        load_config(POSTransferConfig, None, ["batch_tokens=lots"])
    with pytest.raises(ConfigError, match="'batch_tokens' = -5: must be at least 0"):
        load_config(POSTransferConfig, None, ["batch_tokens=-5"])
