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

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from xdomain_nlp.errors import InputError
from xdomain_nlp.training.averaging import WeightAverager
from xdomain_nlp.training.checkpoint import CheckpointDir
from xdomain_nlp.training.sampler import leave, set_epoch
from xdomain_nlp.training.single_process import SingleProcess

LossFn = Callable[[nn.Module, dict], torch.Tensor]


@dataclass
class FitState:
    """Where a run is: saved in every checkpoint, so a resumed run counts like the original."""

    epoch: int = 0  # epochs finished
    batches_done: int = 0  # batches of the current epoch already trained on
    step: int = 0  # optimizer steps taken
    history: list[dict] = field(default_factory=list)  # what on_epoch_end returned, epoch by epoch
    curve: list[dict] = field(default_factory=list)  # mean loss, learning rate and time, every log_every steps


@dataclass
class FitResult:
    state: FitState
    finished: bool  # False when stopped early by stop_after_steps (run again to resume)
    seconds: float = 0.0  # the whole call: training, checkpoints, callbacks
    items_per_s: float = 0.0  # training items (words, sentences, pieces) per second of training, all processes
    last_loss: float = float("nan")  # mean loss over the last log_every steps
    resumed_from: str | None = None
    train_seconds: float = 0.0  # seconds spent in training steps (checkpoints and callbacks left out)
    pieces_per_s: float = 0.0  # subword pieces (attention mask) per second of training, all processes
    steady_items_per_s: float = 0.0  # items/s after the first read of the loss (start-up costs left out)
    steady_pieces_per_s: float = 0.0  # pieces/s likewise


def batch_items(batch: dict) -> torch.Tensor | int:
    """What the throughput counts: labelled items when the batch has labels, else pieces (a tensor
    on the batch's device: counting never waits for the GPU)."""
    labels = batch.get("labels")
    if isinstance(labels, torch.Tensor):
        return (labels != -100).sum()
    return batch_pieces(batch)


def batch_pieces(batch: dict) -> torch.Tensor | int:
    """Subword pieces in a batch: the ones its attention mask lets through (0 without a mask)."""
    mask = batch.get("attention_mask")
    return mask.sum() if isinstance(mask, torch.Tensor) else 0


class _Tally:
    """Loss and counts summed where they are computed (the GPU), read only every ``every`` steps.

    Reading a GPU number waits for every step queued before it; reading per step would keep the
    host from queuing the next step while the GPU works on this one."""

    def __init__(self) -> None:
        self.loss, self.steps, self.items, self.pieces = 0, 0, 0, 0
        self.total_items, self.total_pieces = 0, 0  # read so far

    def add(self, loss: torch.Tensor, items: torch.Tensor | int, pieces: torch.Tensor | int) -> None:
        self.loss = self.loss + loss.detach().float()
        self.items, self.pieces = self.items + items, self.pieces + pieces
        self.steps += 1

    def add_items(self, items: torch.Tensor | int, pieces: torch.Tensor | int) -> None:  # an accumulation step
        self.items, self.pieces = self.items + items, self.pieces + pieces

    def read(self) -> float:
        """The mean loss since the last read (NaN for none); the counts move to the totals."""
        mean = float(self.loss) / self.steps if self.steps else float("nan")
        self.total_items += int(self.items)
        self.total_pieces += int(self.pieces)
        self.loss, self.steps, self.items, self.pieces = 0, 0, 0, 0
        return mean


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
    count_items: Callable[[dict], torch.Tensor | int] = batch_items,
    count_pieces: Callable[[dict], torch.Tensor | int] = batch_pieces,
    log_every: int = 25,
    desc: str = "train",
) -> FitResult:
    """Train ``model`` on ``loader`` for ``epochs`` passes (or exactly ``max_steps`` optimizer steps).

    ``model``, ``optimizer``, ``loader`` and ``scheduler`` come already prepared by ``accelerator``
    (``None``: one in-process device, see `SingleProcess`). With ``checkpoints``, the newest
    loadable checkpoint there is resumed before the first batch, and the state is saved every
    ``checkpoint_every`` steps and at each epoch end; ``stop_after_steps`` stops as if killed right
    after a checkpoint. ``max_grad_norm`` > 0 clips when gradients are synchronised.
    ``on_epoch_end(epoch)`` may return a record for ``state.history``; ``on_step(step)`` runs after
    every optimizer step. Loss and counts stay on the device and are read every ``log_every``
    steps (and at epoch ends), for the progress bar, the trackers and ``state.curve``.

    Example (no accelerator: one in-process device; a recipe passes the ones it prepared)::

        >>> import torch
        >>> _ = torch.manual_seed(0)
        >>> x, y = torch.randn(64, 4), torch.randn(64)
        >>> model = torch.nn.Linear(4, 1)
        >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> loader = [{"x": x[i : i + 8], "y": y[i : i + 8]} for i in range(0, 64, 8)]
        >>> result = fit(model, optimizer, loader, lambda m, b: (m(b["x"]).squeeze(-1) - b["y"]).square().mean(),
        ...              epochs=2, count_items=lambda b: len(b["y"]))
        >>> result.finished, result.state.step
        (True, 16)
    """
    acc = accelerator if accelerator is not None else SingleProcess()
    if epochs < 1 and max_steps < 1:
        raise InputError(f"nothing to train: epochs={epochs} and max_steps={max_steps}")
    if log_every < 1:
        raise InputError(f"log_every must be positive, got {log_every}")
    per_epoch = math.ceil(len(loader) / getattr(acc, "gradient_accumulation_steps", 1)) if _sized(loader) else 0
    total = max_steps or per_epoch * epochs
    if max_steps and per_epoch:
        epochs = math.ceil(max_steps / per_epoch)
    elif max_steps:
        raise InputError("max_steps needs a loader with a length")
    state, resumed = FitState(), None
    extras = {"averager": averager} if averager is not None else {}  # written as safetensors + JSON, not pickled
    if checkpoints is not None:
        found = checkpoints.resume(acc, extras)
        if found is not None:
            resumed, state = str(found[0]), FitState(**found[1])
            acc.print(f"resumed from {resumed} at epoch {state.epoch}, step {state.step}")

    started = time.perf_counter()
    aside = 0.0  # seconds spent outside training steps (checkpoints, callbacks)
    steady: tuple[float, float, int, int] | None = None  # (time, time aside, items, pieces) at the first read

    def save() -> None:
        nonlocal aside
        if checkpoints is not None:
            t = time.perf_counter()
            checkpoints.save(acc, asdict(state), extras)
            aside += time.perf_counter() - t

    tally = _Tally()
    last_loss = float("nan")

    def read() -> None:
        """Wait for the device, log the mean loss since the last read, and mark the steady state."""
        nonlocal last_loss, steady
        if not tally.steps:
            return
        last_loss = tally.read()
        now = time.perf_counter()
        rate = tally.total_items * acc.num_processes / max(now - started - aside, 1e-9)
        lr = optimizer.param_groups[0]["lr"]
        state.curve.append({
            "step": state.step, "epoch": state.epoch, "loss": round(last_loss, 5), "lr": lr,
            "train_seconds": round(now - started - aside, 3),  # of this call (a resumed run counts afresh)
        })  # fmt: skip
        bar.set_postfix(loss=f"{last_loss:.3f}", items_per_s=f"{rate:.0f}")
        acc.log({"train/loss": last_loss, "train/lr": lr, "train/items_per_s": rate}, step=state.step)
        if steady is None:
            steady = (now, aside, tally.total_items, tally.total_pieces)

    bar = tqdm(total=total, initial=state.step, disable=not acc.is_local_main_process, desc=desc)
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
                optimizer.zero_grad(set_to_none=True)
            state.batches_done += 1
            if not acc.sync_gradients:
                tally.add_items(count_items(batch), count_pieces(batch))
                continue
            state.step += 1
            tally.add(loss, count_items(batch), count_pieces(batch))
            if averager is not None:
                averager.update(acc.unwrap_model(model), state.step)
            bar.update(1)
            if state.step % log_every == 0:
                read()
            if on_step is not None:  # e.g. a held-out score every N steps
                t = time.perf_counter()
                on_step(state.step)
                model.train()
                aside += time.perf_counter() - t
            if max_steps and state.step >= max_steps:
                leave(batches)
                break
            if checkpoint_every and state.step % checkpoint_every == 0:
                read()
                save()
            if stop_after_steps and state.step >= stop_after_steps:
                read()
                save()
                bar.close()
                leave(batches)
                return FitResult(state, False, resumed_from=resumed, last_loss=last_loss)
        state.epoch, state.batches_done = epoch + 1, 0
        read()
        if on_epoch_end is not None:
            t = time.perf_counter()
            record = on_epoch_end(epoch + 1)
            model.train()
            aside += time.perf_counter() - t
            if record:
                state.history.append({"epoch": epoch + 1, **record})
                scores = {f"eval/{k}": v for k, v in record.items() if isinstance(v, (int, float))}
                acc.log({**scores, "epoch": epoch + 1}, step=state.step)  # trackers see what history holds
        save()
        if max_steps and state.step >= max_steps:
            break
    read()
    bar.close()
    seconds = time.perf_counter() - started
    if averager is not None:
        averager.copy_to(acc.unwrap_model(model))
        acc.print(f"weights: average of {averager.count} snapshots from step {averager.start_step}")
    model.eval()
    train_seconds = max(seconds - aside, 1e-9)
    n = acc.num_processes
    rate = tally.total_items * n / train_seconds
    pieces_rate = tally.total_pieces * n / train_seconds
    steady_rates = (rate, pieces_rate)
    if steady is not None and seconds - aside - (steady[0] - started - steady[1]) > 0.05 * train_seconds:
        steady_seconds = (seconds - aside) - (steady[0] - started - steady[1])
        steady_rates = ((tally.total_items - steady[2]) * n / steady_seconds,
                        (tally.total_pieces - steady[3]) * n / steady_seconds)  # fmt: skip
    return FitResult(
        state, True, seconds, rate, last_loss, resumed, train_seconds=train_seconds, pieces_per_s=pieces_rate,
        steady_items_per_s=steady_rates[0], steady_pieces_per_s=steady_rates[1],
    )  # fmt: skip


def _sized(loader: Any) -> bool:
    try:
        len(loader)
    except TypeError:
        return False
    return True
