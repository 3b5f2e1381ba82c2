"""``xdomain.json``: what a model folder is (its task, labels, training config and metrics), with
the format version that lets a later release's folder be refused in one line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from xdomain_nlp.errors import InputError

PATH_KEYS = ("config", "train")  # the parts of xdomain.json (and metrics.json) that may name files and folders

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
    return {k: resolved_paths(v, path) if k in PATH_KEYS else v for k, v in meta.items()}


def write_model_meta(path: Path, meta: dict[str, Any], *, final: Path | None = None) -> Path:
    """Write ``xdomain.json`` (UTF-8, readable) into ``path``, its paths recorded relative to ``final``
    (where the folder will be once in place; ``path`` itself by default)."""
    from xdomain_nlp.version import __version__

    out = Path(path) / XDOMAIN_FILE
    written_by = {"format": FORMAT, "xdomain_nlp_version": __version__}  # this release's, not a loaded folder's
    meta = {**written_by, **{k: v for k, v in meta.items() if k not in written_by}}
    meta = {k: recorded_paths(v, final or path) if k in PATH_KEYS else v for k, v in meta.items()}
    out.write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    return out


def window_settings(meta: dict[str, Any], max_length: int | None = None, overlap: int | None = None) -> tuple[int, int]:
    """The ``(max_length, window_overlap)`` the model was trained with, so inference windows match;
    ``max_length`` / ``overlap`` replace them when given (a spaCy component's settings)."""
    config = meta.get("config", {})
    trained_length, trained_overlap = int(config.get("max_length", 256)), int(config.get("window_overlap", 64))
    return max_length or trained_length, trained_overlap if overlap is None else overlap


def recorded_paths(value: Any, folder: str | os.PathLike) -> Any:
    """``value`` as a file in ``folder`` records it: every local path relative to ``folder``, so that
    no absolute path of this machine is written and a run folder moved whole still finds its parts;
    corpus names (``ud:en_ewt:train``), Hub ids and other settings as they were given."""
    if isinstance(value, dict):
        return {k: recorded_paths(v, folder) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [recorded_paths(v, folder) for v in value]
    if not isinstance(value, str) or "://" in value:
        return value
    path, bracket, options = value.partition("[")  # a corpus spec's [options] stay as they are
    local = Path(path).expanduser()
    if not path or not (local.is_absolute() or (("/" in path or local.suffix) and local.exists())):
        return value
    return os.path.relpath(os.path.abspath(local), os.path.abspath(folder)) + bracket + options


def resolved_paths(value: Any, folder: str | os.PathLike) -> Any:
    """The other way: a recorded relative path that exists from ``folder`` becomes that path, for the
    code that reads it (a sentiment model's parser); everything else is left as it is."""
    if isinstance(value, dict):
        return {k: resolved_paths(v, folder) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolved_paths(v, folder) for v in value]
    if not isinstance(value, str) or "://" in value:
        return value
    path, bracket, options = value.partition("[")
    if not path or Path(path).is_absolute() or not (path.startswith(".") or "/" in path):
        return value
    there = Path(folder) / path
    return os.path.normpath(there) + bracket + options if there.exists() else value
