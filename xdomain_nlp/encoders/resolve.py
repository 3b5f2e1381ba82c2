"""Resolve a ``--model`` value (embedded name, local path or Hub id) to something loadable."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from xdomain_nlp.data.corpora import cache_dir
from xdomain_nlp.encoders.embedded import EMBEDDED_PREFIX, embedded_model_dir

DEFAULT_MODEL = "embedded:multilingual-e5-small"


def resolve_model(name: str = DEFAULT_MODEL) -> str:
    """A local directory or Hub id that `from_pretrained` accepts.

    ``embedded:NAME`` converts the packaged encoder once into the user cache; an existing path
    is used as it is; anything else is passed on as a Hub id (downloaded and cached by
    `huggingface_hub`, so it needs the network the first time).
    """
    if name.startswith(EMBEDDED_PREFIX):
        return str(embedded_model_dir(name[len(EMBEDDED_PREFIX) :], cache_dir()))
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: not a model directory (no config.json)")
        return str(path)
    return name


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    """The fast tokenizer for a resolved model; word alignment needs a fast one."""
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name))
    if not tokenizer.is_fast:
        raise TypeError(f"{name}: the tokenizer is not a fast (Rust) tokenizer; word alignment needs one")
    return tokenizer


def load_encoder(name: str) -> PreTrainedModel:
    """The bare encoder (no pooler: token tasks never use it, and e5 ships none)."""
    path = resolve_model(name)
    try:
        return AutoModel.from_pretrained(path, add_pooling_layer=False)
    except TypeError:  # architectures without a pooler do not take the argument
        return AutoModel.from_pretrained(path)
