"""Which reduced precision a device runs natively, for inference that costs no accuracy."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import torch


@cache
def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 matrix instructions (AVX512-BF16 or AMX), where oneDNN runs bf16 fast."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def inference_dtype(device: torch.device | str, setting: str = "auto") -> torch.dtype | None:
    """Autocast dtype for inference: ``auto`` picks bf16 where the hardware has it, else fp32.

    On CPUs with AVX512-BF16 this measured 1.7x the words/s of fp32 at identical UPOS accuracy
    on German GSD test (benchmarks/results/pos_en_de.json records both numbers).
    """
    if setting == "fp32" or setting == "no":
        return None
    if setting == "bf16":
        return torch.bfloat16
    if setting != "auto":
        raise ValueError(f"infer_precision must be auto, bf16 or fp32, got {setting!r}")
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


MIXED_PRECISION = ("auto", "native", "no", "bf16", "fp16")


def resolve_mixed_precision(setting: str) -> str:
    """The ``mixed_precision`` an ``Accelerator`` gets for a recipe's setting.

    ``auto``: bf16 on a GPU, fp32 ("no") on CPU. ``native``: bf16 wherever the hardware runs it
    natively, CPUs with AVX512-BF16/AMX included. ``no``, ``bf16``, ``fp16`` are passed through.
    """
    if setting not in MIXED_PRECISION:
        raise ValueError(f"mixed_precision must be one of {', '.join(MIXED_PRECISION)}, got {setting!r}")
    if setting == "auto":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    if setting == "native":
        device = "cuda" if torch.cuda.is_available() else "cpu"
        return "bf16" if inference_dtype(device) == torch.bfloat16 else "no"
    return setting


def pick_device(setting: str) -> torch.device:
    """``auto`` = the first GPU when there is one; otherwise what torch makes of the string."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(setting)
    except RuntimeError as err:
        raise ValueError(f"device: {setting!r} is not a torch device (use auto, cpu, cuda or cuda:N)") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {setting!r} was asked for, but torch sees no CUDA device")
    return device
