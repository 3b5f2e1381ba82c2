"""Relational transfer: a dependency parser (the network in ``biaffine``, `Parser` to use it), graphs
over its parses, relational layers, lexicons.

Imported names load on first use, so that a config can read the relation names
(`xdomain_nlp.relational.relations`) without loading the parser.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "BiaffineParser": "biaffine",
    "load_parser": "biaffine",
    "parse_windows": "biaffine",
    "chu_liu_edmonds": "tree",
    "decode_single_root": "tree",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"xdomain_nlp.relational.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'xdomain_nlp.relational' has no attribute {name!r}")
