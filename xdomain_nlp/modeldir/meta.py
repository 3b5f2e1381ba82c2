"""``xdomain.json``: what a model folder is (its task, labels, training config and metrics), with
the format version that lets a later release's folder be refused in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xdomain_nlp.errors import InputError
from xdomain_nlp.outputs import recorded_paths, resolved_paths

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
