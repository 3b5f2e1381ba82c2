"""Saving and opening a model folder, once for every kind of model.

A folder holds the encoder in `transformers` format (``config.json``, ``model.safetensors``), the
tokenizer, the task's own weights when it has any (``*.safetensors`` beside the encoder: mapping
heads, the parser's scorer, a graph classifier's head) and ``xdomain.json``. Each model kind says
only what its parts are (`FolderParts`, as Flair's models give a state dict) and how to build
itself from them (``from_folder``); writing, reading, the Hub and the checks live here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from xdomain_nlp.errors import InputError
from xdomain_nlp.modeldir.download import local_model_dir
from xdomain_nlp.modeldir.meta import read_model_meta, write_model_meta
from xdomain_nlp.outputs import model_folder

if TYPE_CHECKING:  # the folder code itself runs without importing torch
    import torch
    from torch import nn


class FolderParts(NamedTuple):
    """What a model writes into its folder."""

    encoder: Any  # a `transformers` model: ``save_pretrained`` writes config.json and model.safetensors
    meta: dict[str, Any]  # the task's keys in xdomain.json (labels, sizes), before the caller's extra
    heads: dict[str, torch.Tensor]  # the task's own weights, written to the kind's ``heads_file`` ({}: none)
    heads_meta: dict[str, Any]  # keys that describe ``heads``, written after the caller's extra


class ModelKind(Protocol):
    task: str  # xdomain.json's "task"
    heads_file: str  # the file of its own weights beside the encoder

    def folder_parts(self) -> FolderParts: ...

    @classmethod
    def from_folder(cls, path: Path, meta: dict[str, Any], heads: dict[str, torch.Tensor]) -> Any: ...


Kind = TypeVar("Kind")


def resolve(path_or_hub_id: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """The local folder of a model (a Hub id is downloaded once) and its ``xdomain.json``."""
    path = local_model_dir(path_or_hub_id)
    return path, read_model_meta(path)


def save_model(
    model: ModelKind, path: str | os.PathLike, tokenizer: Any, extra: dict[str, Any] | None = None, *,
    also: Callable[[Path], None] | None = None,
) -> Path:  # fmt: skip
    """Write ``model``'s folder at ``path``: written beside it and put in place at the end, so a
    failure (a full disk) leaves ``path`` as it was; a folder at ``path`` that holds another model is
    replaced, any other non-empty folder refused. ``also(folder)`` adds files before the swap."""
    from safetensors.torch import save_file

    parts = model.folder_parts()
    meta = {"task": model.task, **parts.meta, **(extra or {})}
    for key, value in parts.heads_meta.items():
        if value is None:
            meta.pop(key, None)  # e.g. no mapping heads: no stale description of them
        else:
            meta[key] = value
    weights = None
    if (meta.get("shrunk") or {}).get("dtype") == "bf16":  # a shrunk model is stored as it was loaded from
        from xdomain_nlp.modeldir.shrink import in_bf16

        weights = in_bf16(parts.encoder.state_dict())
    with model_folder(path) as tmp:
        parts.encoder.save_pretrained(tmp, state_dict=weights)
        tokenizer.save_pretrained(tmp)
        if parts.heads:
            save_file({k: v.detach().contiguous() for k, v in parts.heads.items()}, str(tmp / model.heads_file))
        write_model_meta(tmp, meta, final=Path(path))
        if also is not None:
            also(tmp)
    return Path(path)


def open_model(
    path_or_hub_id: str | os.PathLike, kind: type[Kind], *, meta: dict[str, Any] | None = None
) -> tuple[Kind, Any, dict[str, Any]]:
    """``(model, tokenizer, xdomain.json)`` of a saved ``kind`` model (a folder or a Hub id); ``meta``
    when the caller has read it already. A damaged weights file is named in one line."""
    from xdomain_nlp.encoders.resolve import fast_tokenizer

    path = local_model_dir(path_or_hub_id)
    meta = meta if meta is not None else read_model_meta(path, kind.task)
    tokenizer = fast_tokenizer(path)  # before the weights: a missing file is found in a second
    for name in ("model.safetensors", kind.heads_file):
        problem = safetensors_problem(path / name)
        if problem:
            raise InputError(f"{path / name}: {problem}; copy or download the model folder again")
    heads_file = path / kind.heads_file
    heads = {}
    if heads_file.is_file():
        from safetensors.torch import load_file

        heads = load_file(str(heads_file))
    return kind.from_folder(path, meta, heads), tokenizer, meta


def safetensors_problem(file: Path) -> str | None:
    """Why ``file`` is not a readable safetensors file (None when it is, or when it is absent)."""
    if not file.is_file():
        return None
    from safetensors import safe_open

    try:
        with safe_open(str(file), framework="pt") as handle:
            handle.keys()
    except Exception as error:  # noqa: BLE001 - the message is what the user needs
        return f"not a readable safetensors file ({error})"
    return None


def copy_into(source: str | os.PathLike, name: str) -> Callable[[Path], None]:
    """An ``also`` for `save_model`: copy the folder ``source`` into the new model folder as ``name``."""
    source = Path(source)

    def copy(folder: Path) -> None:
        shutil.copytree(source, folder / name)

    return copy


def load_heads(model: nn.Module, heads: dict[str, torch.Tensor], file: Path) -> nn.Module:
    """``heads`` (all weights but the encoder's) into ``model``; what is missing or extra is named."""
    missing, unexpected = model.load_state_dict(heads, strict=False)
    missing = [k for k in missing if not k.startswith("encoder.")]
    if missing or unexpected:
        problem = f"missing {missing}, unexpected {unexpected}" if file.is_file() else "missing"
        raise InputError(f"{file}: {problem}")
    return model
