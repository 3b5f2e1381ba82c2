"""Whether the Hugging Face Hub can be reached, asked once and fast, so that loading a model or a
dataset that is not cached fails in seconds rather than after a minute of retries."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse


def hub_unreachable(timeout: float = 3.0) -> str | None:
    """Why the Hub cannot be reached (offline mode, or no connection within ``timeout``), or None."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((endpoint.hostname, port), timeout=timeout).close()
    except OSError as error:
        return f"the Hub at {endpoint.geturl()} cannot be reached ({error.strerror or error})"
    return None


GET_IT_ONCE = "download it once where the Hub is reachable, or pass a local model directory"


def hub_or_cache(repo_id: str, cached: bool) -> bool:
    """Whether to ask the Hub for ``repo_id`` (False: the cache answers, the Hub cannot); when neither
    can, one error that names ``repo_id`` and says how to get it, in seconds rather than after retries."""
    reason = hub_unreachable()
    if reason is None:
        return True
    if cached:
        return False
    raise ConnectionError(f"{repo_id}: not in the Hugging Face cache and {reason}; {GET_IT_ONCE}")


@contextmanager
def offline(on: bool = True) -> Iterator[None]:
    """`datasets` and `huggingface_hub` in offline mode for a while (both read the flag at import)."""
    import datasets
    from huggingface_hub import constants

    saved = datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE
    if on:
        datasets.config.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE = saved
