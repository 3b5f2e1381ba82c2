"""What the components share: devices, precision, and moving a model directory through spaCy's I/O."""

from __future__ import annotations

import tempfile
from pathlib import Path

import srsly
import torch

from xdomain_nlp.training.precision import inference_dtype


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


def pick_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    return inference_dtype(device, precision)


def dir_to_bytes(path: Path) -> bytes:
    """A flat model directory as one msgpack blob (for ``nlp.to_bytes``)."""
    return srsly.msgpack_dumps({p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()})


def bytes_to_dir(data: bytes) -> Path:
    """The inverse of `dir_to_bytes`, unpacked into a fresh temporary directory."""
    path = Path(tempfile.mkdtemp(prefix="xdomain_spacy_"))
    for name, content in srsly.msgpack_loads(data).items():
        (path / name).write_bytes(content)
    return path
