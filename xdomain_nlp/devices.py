"""Where a model runs and in which precision: the one place that answers it for every forward pass.

Code outside the training loop (word features, pseudo-labels, re-weighting embeddings, parsing,
evaluation, ``predict``, the spaCy components) reads the device from the model it was given and
asks `autocast` for the precision, so that the same function is right on a CPU and on a GPU.
The training loop gets both from ``accelerate`` instead. A test keeps hard-coded CPU devices and
autocasts out of the rest of the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from xdomain_nlp.errors import InputError

CPU = torch.device("cpu")  # host memory: where results that leave a model are gathered


@cache
def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 matrix instructions (AVX512-BF16 or AMX), where oneDNN runs bf16 fast."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's parameters (the CPU for a model without any)."""
    for param in model.parameters():
        return param.device
    return CPU


def as_device(where: nn.Module | torch.device | str) -> torch.device:
    return model_device(where) if isinstance(where, nn.Module) else torch.device(where)


def inference_dtype(device: nn.Module | torch.device | str, setting: str = "auto") -> torch.dtype | None:
    """Autocast dtype for inference: ``auto`` picks bf16 where the hardware has it, else fp32.

    On CPUs with AVX512-BF16 this measured 1.7x the words/s of fp32 at identical UPOS accuracy
    on German GSD test (benchmarks/results/pos_en_de.json records both numbers).
    """
    if setting == "fp32" or setting == "no":
        return None
    if setting == "bf16":
        return torch.bfloat16
    if setting != "auto":
        raise InputError(f"infer_precision must be auto, bf16 or fp32, got {setting!r}")
    device = as_device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


def autocast(where: nn.Module | torch.device | str, dtype: torch.dtype | None) -> AbstractContextManager:
    """Autocast to ``dtype`` on the device of ``where`` (a model or a device); with ``dtype`` None,
    fp32 (autocast switched off, also inside a caller's autocast region)."""
    device_type = as_device(where).type
    if dtype is None:
        return torch.autocast(device_type, enabled=False) if device_type in ("cpu", "cuda") else nullcontext()
    return torch.autocast(device_type, dtype=dtype)


def to_device(batch: Mapping[str, Any], device: nn.Module | torch.device | str) -> dict[str, Any]:
    """The tensors of a collated batch on ``device`` (other values as they are).

    To a GPU, host tensors go through pinned memory and are copied without waiting: the host
    collates the next batch while the GPU still works on this one.
    """
    device = as_device(device)
    if device.type != "cuda":
        return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
    out = {}
    for k, v in batch.items():
        if isinstance(v, torch.Tensor) and v.device.type == "cpu":
            v = (v if v.is_pinned() else v.pin_memory()).to(device, non_blocking=True)
        elif isinstance(v, torch.Tensor):
            v = v.to(device)
        out[k] = v
    return out


# Pieces per inference batch of the parser and the sentiment model on a CPU. Against 16,384 on 2
# cores, fp32: EWT test parsed at 1,915 words/s instead of 976 and SST-2 test classified at 50
# sentences/s instead of 24, at the same UAS, LAS and accuracy (benchmarks/results/parse_speed.json,
# `before_cpu_batches` is the 16,384 run; python benchmarks/parse_speed.py measures both).
CPU_PARSE_BATCH_TOKENS = 2048


def inference_batch_tokens(where: nn.Module | torch.device | str, cpu: int = 8192) -> int:
    """Pieces per inference batch: ``cpu`` on a CPU (larger batches run no faster there), 65,536 on
    a GPU, where a batch must be large to keep the device busy."""
    return max(65536, cpu) if on_cuda(where) else cpu


def pick_device(setting: str) -> torch.device:
    """``auto`` = the first GPU when there is one; otherwise what torch makes of the string."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(setting)
    except RuntimeError as err:
        raise InputError(f"device: {setting!r} is not a torch device (use auto, cpu, cuda or cuda:N)") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device: {setting!r} was asked for, but torch sees no CUDA device")
    return device


def on_cuda(where: nn.Module | torch.device | str) -> bool:
    return as_device(where).type == "cuda"
