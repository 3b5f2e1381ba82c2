"""`SingleProcess`: the part of an ``Accelerator`` the loop uses, for heads trained in-process."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

import torch
from torch import nn


class SingleProcess:
    """What `fit` needs of an ``Accelerator``, for small heads trained in-process on one device.

    Estimators (mapping heads, DANN) train tiny networks on cached features inside a recipe that
    already owns an ``Accelerator``; a second one with other settings is not allowed, and those
    heads need neither mixed precision nor processes.
    """

    num_processes = 1
    is_main_process = is_local_main_process = True
    sync_gradients = True

    def __init__(self, device: torch.device | str = "cpu") -> None:  # the CPU is meant: estimators on arrays
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

    def end_training(self) -> None:
        pass
