"""The model directory: one format for every kind of model the package trains.

A directory holds the encoder in `transformers` format (``config.json``, ``model.safetensors``),
the tokenizer, the task's own weights when it has any (mapping heads, the parser's scorer, a graph
classifier's head) and ``xdomain.json``: the task, its labels, the training config and metrics. A
Hub id resolves to the same directory, downloaded once into the `huggingface_hub` cache.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from xdomain_nlp.errors import InputError
from xdomain_nlp.hub.download import local_model_dir

XDOMAIN_FILE = "xdomain.json"
FORMAT = 1  # of xdomain.json; a folder written by a later release, with a higher one, is refused
TASKS = {"tagging": "Tagger", "parsing": "Parser", "graph-classification": "SentimentClassifier"}


def read_model_meta(path: Path, task: str | None = None) -> dict[str, Any]:
    """``xdomain.json`` of a model directory, checked to be a ``task`` model (any task when None)."""
    meta_file = Path(path) / XDOMAIN_FILE
    if not meta_file.is_file():
        raise FileNotFoundError(f"{path}: not an xdomain_nlp model directory (no {XDOMAIN_FILE})")
    try:
        meta = json.loads(meta_file.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{meta_file}: not valid JSON ({err.msg}, line {err.lineno})") from None
    written = meta.get("format", 1)  # folders from before the field are format 1
    if not isinstance(written, int) or written > FORMAT:
        by = meta.get("xdomain_nlp_version", "a later release")
        raise InputError(
            f"{meta_file}: model folder format {written!r} (written by xdomain_nlp {by}); this xdomain_nlp reads "
            f"format {FORMAT}: upgrade xdomain_nlp (pip install -U xdomain-nlp)"
        )
    if task is not None and meta.get("task") != task:
        raise InputError(f"{meta_file}: task is {meta.get('task')!r}, expected {task!r}")
    if task is None and meta.get("task") not in TASKS:
        raise InputError(f"{meta_file}: task {meta.get('task')!r} is not one of {', '.join(TASKS)}")
    return meta


def write_model_meta(path: Path, meta: dict[str, Any]) -> Path:
    """Write ``xdomain.json`` (UTF-8, readable)."""
    from xdomain_nlp.version import __version__

    out = Path(path) / XDOMAIN_FILE
    meta = {"format": FORMAT, "xdomain_nlp_version": __version__, **meta}
    out.write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    return out


def resolve(path_or_hub_id: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """The local directory of a model (a Hub id is downloaded once) and its ``xdomain.json``."""
    path = local_model_dir(path_or_hub_id)
    return path, read_model_meta(path)


def window_settings(meta: dict[str, Any]) -> tuple[int, int]:
    """The ``(max_length, window_overlap)`` the model was trained with, so inference windows match."""
    config = meta.get("config", {})
    return int(config.get("max_length", 256)), int(config.get("window_overlap", 64))
