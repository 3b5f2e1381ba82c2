"""Resolve a ``--model`` value (embedded name, local path or Hub id) to something loadable."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from xdomain_nlp.data.corpora import cache_dir
from xdomain_nlp.defaults import DEFAULT_MODEL
from xdomain_nlp.encoders.embedded import EMBEDDED_PREFIX, embedded_model_dir
from xdomain_nlp.errors import InputError
from xdomain_nlp.hub_access import hub_unreachable


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


def check_hub_reachable(repo_id: str, timeout: float = 3.0) -> None:
    """Fail in seconds, not after a minute of retries, for a Hub id that is neither cached nor reachable."""
    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
        return  # cached: from_pretrained works offline
    how = "download it once where the Hub is reachable, or pass a local model directory"
    if constants.HF_HUB_OFFLINE:
        raise ConnectionError(f"{repo_id}: not in the Hugging Face cache and HF_HUB_OFFLINE is set; {how}")
    reason = hub_unreachable()
    if reason:
        raise ConnectionError(f"{repo_id}: not in the Hugging Face cache and {reason}; {how}")


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    """The fast tokenizer for a resolved model; word alignment needs a fast one."""
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name))
    if not tokenizer.is_fast:
        raise InputError(f"{name}: the tokenizer is not a fast (Rust) tokenizer; word alignment needs one")
    return tokenizer


def load_encoder(name: str) -> PreTrainedModel:
    """The bare encoder (no pooler: token tasks never use it, and e5 ships none)."""
    path = resolve_model(name)
    try:
        return AutoModel.from_pretrained(path, add_pooling_layer=False)
    except TypeError:  # architectures without a pooler do not take the argument
        return AutoModel.from_pretrained(path)
