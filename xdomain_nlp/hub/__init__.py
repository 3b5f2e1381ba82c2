"""Publishing adapted models: model cards and pushes to the Hub.

Imported names load on first use: the push code needs the Hub client's HTTP stack, which a
training run or a prediction never touches (a model id is resolved by `xdomain_nlp.modeldir`, below).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Evaluation": "card",
    "build_model_card": "card",
    "read_evaluations": "card",
    "HubPushError": "push",
    "push_to_hub": "push",
    "stage_folder": "push",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"xdomain_nlp.hub.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'xdomain_nlp.hub' has no attribute {name!r}")
