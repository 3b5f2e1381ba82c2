"""Mixed precision for training: what a recipe's ``mixed_precision`` setting means on this machine."""

from __future__ import annotations

import torch

from xdomain_nlp.devices import inference_dtype
from xdomain_nlp.errors import InputError

MIXED_PRECISION = ("auto", "native", "no", "bf16", "fp16")


def resolve_mixed_precision(setting: str) -> str:
    """The ``mixed_precision`` an ``Accelerator`` gets for a recipe's setting.

    ``auto``: bf16 on a GPU, fp32 ("no") on CPU. ``native``: bf16 wherever the hardware runs it
    natively, CPUs with AVX512-BF16/AMX included. ``no``, ``bf16``, ``fp16`` are passed through.
    """
    if setting not in MIXED_PRECISION:
        raise InputError(f"mixed_precision must be one of {', '.join(MIXED_PRECISION)}, got {setting!r}")
    if setting == "auto":
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    if setting == "native":
        device = "cuda" if torch.cuda.is_available() else "cpu"
        return "bf16" if inference_dtype(device) == torch.bfloat16 else "no"
    return setting
