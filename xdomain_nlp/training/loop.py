"""The one training loop of the package: every recipe and every small head trainer runs through `fit`.

Like accelerate's ``nlp_example.py``, the loop is the same on one CPU, one GPU or many processes:
``accelerate`` owns devices, mixed precision, gradient sync and accumulation. What the loop adds
is what each recipe used to write again: clipping only when gradients are synchronised, instance
weights through the task's loss, checkpoints every N steps and at epoch ends, exact resume (the
data order included), weight averaging, a progress bar with loss and throughput, and trackers.

A task plugs in three things: the model, the batches (a ``DataLoader`` whose batch sampler has
``set_epoch``, so that the order is a function of seed and epoch) and ``loss_fn(model, batch)``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from xdomain_nlp.training.averaging import WeightAverager
from xdomain_nlp.training.checkpoint import CheckpointDir

LossFn = Callable[[nn.Module, dict], torch.Tensor]


@dataclass
class FitState:
    """Where a run is: saved in every checkpoint, so a resumed run counts like the original."""

    epoch: int = 0  # epochs finished
    batches_done: int = 0  # batches of the current epoch already trained on
    step: int = 0  # optimizer steps taken
    history: list[dict] = field(default_factory=list)  # what on_epoch_end returned, epoch by epoch


@dataclass
class FitResult:
    state: FitState
    finished: bool  # False when stopped early by stop_after_steps (run again to resume)
    seconds: float = 0.0
    items_per_s: float = 0.0  # training items (words, sentences, pieces) per second, all processes
    last_loss: float = float("nan")
    resumed_from: str | None = None


class SingleProcess:
    """What `fit` needs of an ``Accelerator``, for small heads trained in-process on one device.

    Estimators (mapping heads, DANN) train tiny networks on cached features inside a recipe that
    already owns an ``Accelerator``; a second one with other settings is not allowed, and those
    heads need neither mixed precision nor processes.
    """

    num_processes = 1
    is_main_process = is_local_main_process = True
    sync_gradients = True

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def clip_grad_norm_(self, parameters: Iterable[nn.Parameter], max_norm: float) -> torch.Tensor:
        return nn.utils.clip_grad_norm_(parameters, max_norm)

    def accumulate(self, model: nn.Module):
        return nullcontext()

    def unwrap_model(self, model: nn.Module) -> nn.Module:
        return model

    def skip_first_batches(self, loader, n: int):
        return itertools.islice(loader, n, None)

    def print(self, *args: Any) -> None:
        print(*args)

    def wait_for_everyone(self) -> None:
        pass

    def log(self, values: dict, step: int | None = None) -> None:
        pass


def set_epoch(loader: Any, epoch: int) -> None:
    """Give ``epoch`` to the loader and every batch sampler it wraps (accelerate's shard wrapper
    does not reach a custom batch sampler in several processes, so walk the chain)."""
    seen, obj = set(), loader
    while obj is not None and id(obj) not in seen:
        seen.add(id(obj))
        if hasattr(obj, "set_epoch"):
            obj.set_epoch(epoch)
        obj = getattr(obj, "batch_sampler", None)


def batch_items(batch: dict) -> int:
    """What the throughput counts: labelled items when the batch has labels, else pieces."""
    labels = batch.get("labels")
    if isinstance(labels, torch.Tensor):
        return int((labels != -100).sum())
    mask = batch.get("attention_mask")
    return int(mask.sum()) if isinstance(mask, torch.Tensor) else 0


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: Iterable[dict],
    loss_fn: LossFn,
    *,
    accelerator: Any = None,
    scheduler: Any = None,
    epochs: int = 1,
    max_steps: int = 0,
    max_grad_norm: float = 0.0,
    checkpoints: CheckpointDir | None = None,
    checkpoint_every: int = 0,
    stop_after_steps: int = 0,
    averager: WeightAverager | None = None,
    on_epoch_end: Callable[[int], dict | None] | None = None,
    on_step: Callable[[int], None] | None = None,
    count_items: Callable[[dict], int] = batch_items,
    desc: str = "train",
) -> FitResult:
    """Train ``model`` on ``loader`` for ``epochs`` passes (or exactly ``max_steps`` optimizer steps).

    ``model``, ``optimizer``, ``loader`` and ``scheduler`` come already prepared by ``accelerator``
    (``None``: one in-process device, see `SingleProcess`). With ``checkpoints``, the newest
    loadable checkpoint there is resumed before the first batch, and the state is saved every
    ``checkpoint_every`` steps and at each epoch end; ``stop_after_steps`` stops as if killed right
    after a checkpoint. ``max_grad_norm`` > 0 clips when gradients are synchronised.
    ``on_epoch_end(epoch)`` may return a record for ``state.history``; ``on_step(step)`` runs after
    every optimizer step.
    """
    acc = accelerator if accelerator is not None else SingleProcess()
    if epochs < 1 and max_steps < 1:
        raise ValueError(f"nothing to train: epochs={epochs} and max_steps={max_steps}")
    per_epoch = math.ceil(len(loader) / getattr(acc, "gradient_accumulation_steps", 1)) if _sized(loader) else 0
    total = max_steps or per_epoch * epochs
    if max_steps and per_epoch:
        epochs = math.ceil(max_steps / per_epoch)
    elif max_steps:
        raise ValueError("max_steps needs a loader with a length")
    state, resumed = FitState(), None
    if checkpoints is not None:
        if averager is not None:
            acc.register_for_checkpointing(averager)
        found = checkpoints.resume(acc)
        if found is not None:
            resumed, state = str(found[0]), FitState(**found[1])
            acc.print(f"resumed from {resumed} at epoch {state.epoch}, step {state.step}")

    def save() -> None:
        if checkpoints is not None:
            checkpoints.save(acc, asdict(state))

    bar = tqdm(total=total, initial=state.step, disable=not acc.is_local_main_process, desc=desc)
    started, items, last_loss = time.perf_counter(), 0, float("nan")
    model.train()
    for epoch in range(state.epoch, epochs):
        set_epoch(loader, epoch)
        batches = loader
        if state.batches_done:  # the same order as the original run, less what it already trained on
            batches = acc.skip_first_batches(loader, state.batches_done)
        for batch in batches:
            with acc.accumulate(model):
                loss = loss_fn(model, batch)
                acc.backward(loss)
                if max_grad_norm and acc.sync_gradients:
                    acc.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                optimizer.zero_grad()
            state.batches_done += 1
            items += count_items(batch)
            if not acc.sync_gradients:
                continue
            state.step += 1
            last_loss = float(loss.detach())
            if averager is not None:
                averager.update(acc.unwrap_model(model), state.step)
            bar.update(1)
            rate = items * acc.num_processes / max(time.perf_counter() - started, 1e-9)
            bar.set_postfix(loss=f"{last_loss:.3f}", items_per_s=f"{rate:.0f}")
            acc.log({"train/loss": last_loss, "train/items_per_s": rate}, step=state.step)
            if on_step is not None:  # e.g. a held-out score every N steps
                on_step(state.step)
                model.train()
            if max_steps and state.step >= max_steps:
                break
            if checkpoint_every and state.step % checkpoint_every == 0:
                save()
            if stop_after_steps and state.step >= stop_after_steps:
                save()
                bar.close()
                return FitResult(state, False, resumed_from=resumed, last_loss=last_loss)
        state.epoch, state.batches_done = epoch + 1, 0
        if on_epoch_end is not None:
            record = on_epoch_end(epoch + 1)
            model.train()
            if record:
                state.history.append({"epoch": epoch + 1, **record})
        save()
        if max_steps and state.step >= max_steps:
            break
    bar.close()
    seconds = time.perf_counter() - started
    if averager is not None:
        averager.copy_to(acc.unwrap_model(model))
        acc.print(f"weights: average of {averager.count} snapshots from step {averager.start_step}")
    model.eval()
    rate = items * acc.num_processes / max(seconds, 1e-9)
    return FitResult(state, True, seconds, rate, last_loss, resumed)


def _sized(loader: Any) -> bool:
    try:
        len(loader)
    except TypeError:
        return False
    return True


def remove_checkpoints(output_dir: str | Path, accelerator: Any = None) -> None:
    """Drop a finished run's checkpoints (they hold the optimizer state: several times the model)."""
    if accelerator is None or accelerator.is_main_process:
        CheckpointDir(Path(output_dir) / "checkpoints").clear()
