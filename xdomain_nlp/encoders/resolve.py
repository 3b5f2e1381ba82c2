"""Resolve a ``--model`` value (embedded name, local path or Hub id) to something loadable."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from xdomain_nlp.data.corpora import cache_dir
from xdomain_nlp.defaults import DEFAULT_MODEL
from xdomain_nlp.encoders.embedded import EMBEDDED_PREFIX, embedded_model_dir
from xdomain_nlp.errors import InputError
from xdomain_nlp.hub_access import hub_or_cache


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
    if looks_like_a_path(name):
        raise FileNotFoundError(f"{name}: no such model directory (a Hub id is 'name' or 'owner/name')")
    check_hub_reachable(name)
    return name


def looks_like_a_path(name: str) -> bool:
    """A model name meant as a local folder: absolute, relative with ./ or ~, more than one slash,
    or a first part that is a folder here ("runs/model" when ./runs exists)."""
    if name.startswith(("/", "./", "../", "~", ".\\")) or "\\" in name or name.count("/") > 1:
        return True
    return "/" in name and Path(name.split("/")[0]).is_dir()


def check_hub_reachable(repo_id: str) -> None:
    """Fail in seconds, not after a minute of retries, for a Hub id that is neither cached nor reachable."""
    from huggingface_hub import try_to_load_from_cache

    if not isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
        hub_or_cache(repo_id, cached=False)  # cached: from_pretrained works offline, nothing to ask


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    """The fast tokenizer for a resolved model; word alignment needs a fast one."""
    return fast_tokenizer(resolve_model(name), name)


def fast_tokenizer(path: str | Path, name: str | None = None) -> PreTrainedTokenizerBase:
    """The fast tokenizer saved at ``path`` (a folder or a Hub id); a folder without one, or a slow
    one, is named in one line (``name``: what the user called it, when that differs)."""
    name = name or str(path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as error:
        folder = Path(path)
        if folder.is_dir() and not (folder / "tokenizer.json").is_file():
            raise InputError(
                f"{folder}: no tokenizer.json, nor tokenizer files it could be built from; copy the whole model "
                "folder again, or save its tokenizer there (tokenizer.save_pretrained)"
            ) from None
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"{name}: its tokenizer cannot be loaded ({first})") from None
    if not tokenizer.is_fast:
        raise InputError(f"{name}: the tokenizer is not a fast (Rust) tokenizer; word alignment needs one")
    return tokenizer


def load_encoder(name: str) -> PreTrainedModel:
    """The bare encoder (no pooler: token tasks never use it, and e5 ships none)."""
    try:  # fp32 even when the folder stores bf16 (a shrunk model): precision is decided at inference
        return load_pretrained(AutoModel, name, add_pooling_layer=False, dtype=torch.float32)[0]
    except TypeError:  # architectures without a pooler do not take the argument
        return load_pretrained(AutoModel, name, dtype=torch.float32)[0]


def load_pretrained(auto_class: Any, name: str, **kwargs: Any) -> tuple[PreTrainedModel, dict[str, list[str]]]:
    """``auto_class.from_pretrained`` of a resolved ``name`` with its loading info, and transformers'
    load report (a table that reads like an error) summarised in one line: a new task head's tensors
    are expected to be missing, and the line says which they are and what was left unused."""
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        model, info = auto_class.from_pretrained(resolve_model(name), output_loading_info=True, **kwargs)
    finally:
        transformers_logging.set_verbosity(verbosity)
    missing, unused = info.get("missing_keys") or [], info.get("unexpected_keys") or []
    said = []
    if missing:
        heads = sorted({key.rsplit(".", 1)[0] for key in missing})
        said.append(f"{len(missing)} new tensors to train ({', '.join(heads[:4])}{', ...' if len(heads) > 4 else ''})")
    if unused:
        said.append(f"{len(unused)} of its tensors unused (layers or heads this model leaves out)")
    if said and os.environ.get("RANK", "0") == "0":
        print(f"xdomain_nlp: {name}: " + "; ".join(said), file=sys.stderr, flush=True)
    return model, info
