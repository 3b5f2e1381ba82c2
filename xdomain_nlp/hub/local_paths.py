"""Local paths in what a push would publish: found, then refused, redacted or kept, as the user says.

A model's ``xdomain.json`` records its training config, and a config names folders and files of the
machine it ran on (``output_dir: /home/ana/runs/pos``, a user's ``/data/private/reviews.csv``). They
would be public on the Hub; `push` refuses them unless told to redact (each becomes ``<local>/`` and
its last part) or keep them.
"""

from __future__ import annotations

import re
from typing import Any

CHOICES = ("refuse", "redact", "keep")
_ABSOLUTE = re.compile(r"^(~|/|[A-Za-z]:[\\/]|\\\\)")  # POSIX, home, Windows drive or share
REDACTED = "<local>/"


def is_local_path(text: str) -> bool:
    """An absolute or home-relative file system path (a corpus spec's ``[options]`` aside)."""
    return bool(_ABSOLUTE.match(text)) and "://" not in text


def local_paths(value: Any, where: str = "") -> list[tuple[str, str]]:
    """``(key, path)`` for every local path in ``value`` (dicts and lists walked, keys dotted)."""
    if isinstance(value, str):
        return [(where, value)] if is_local_path(value) else []
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in local_paths(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, (list, tuple)):
        return [found for i, v in enumerate(value) for found in local_paths(v, f"{where}[{i}]")]
    return []


def redacted(value: Any) -> Any:
    """``value`` with every local path replaced by ``<local>/`` and its last part (options kept)."""
    if isinstance(value, str):
        if not is_local_path(value):
            return value
        path, bracket, options = value.partition("[")
        name = re.split(r"[\\/]", path.rstrip("/\\"))[-1]
        return f"{REDACTED}{name}{bracket}{options}"
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redacted(v) for v in value]
    return value


def describe(found: list[tuple[str, str]], limit: int = 3) -> str:
    """``key = path, ...`` for a message, the first ``limit`` of them."""
    shown = ", ".join(f"{key} = {path}" for key, path in found[:limit])
    return shown + (f" and {len(found) - limit} more" if len(found) > limit else "")
