"""xdomain_nlp: transfer learning for NLP across languages and domains.

``xdomain_nlp.load(path_or_hub_id)`` gives back any model the package trained, ready to ``predict``.
"""

from __future__ import annotations

from typing import Any

from xdomain_nlp.version import __version__

__all__ = ["Parser", "SentimentClassifier", "Tagger", "__version__", "load"]


def __getattr__(name: str) -> Any:
    """The model classes load torch and transformers, so they are imported on first use."""
    if name in ("load", "Tagger", "Parser", "SentimentClassifier"):
        from xdomain_nlp import api

        return getattr(api, name)
    raise AttributeError(f"module 'xdomain_nlp' has no attribute {name!r}")
