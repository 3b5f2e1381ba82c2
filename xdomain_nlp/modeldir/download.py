"""A model folder from a local path or the Hugging Face Hub (downloaded once, then read offline)."""

from __future__ import annotations

import os
from pathlib import Path

from huggingface_hub import snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from xdomain_nlp.errors import InputError
from xdomain_nlp.hub_access import hub_or_cache


def local_model_dir(name: str | os.PathLike, revision: str | None = None) -> Path:
    """``name`` itself when it is a directory, else a snapshot of the Hub repo ``name``.

    Snapshots land in the `huggingface_hub` cache (``HF_HOME``) and are reused offline
    (``HF_HUB_OFFLINE=1``, or no connection) once downloaded; an id the Hub does not have, or
    neither the cache nor the Hub can give, is one line naming it.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    text = str(name)
    try:
        validate_repo_id(text)
    except HFValidationError as err:
        raise FileNotFoundError(
            f"{text!r} is neither a local model directory nor a valid Hub repo id ({err})"
        ) from None
    try:
        cached = Path(snapshot_download(text, revision=revision, local_files_only=True))
    except LocalEntryNotFoundError:
        cached = None
    if not hub_or_cache(text, cached is not None):
        return cached
    try:
        return Path(snapshot_download(text, revision=revision))
    except GatedRepoError:
        raise InputError(f"{text}: a gated model; accept its terms on the Hub and log in (hf auth login)") from None
    except RepositoryNotFoundError:
        raise InputError(f"{text}: no such model on the Hub (or a private one: log in with hf auth login)") from None
    except RevisionNotFoundError:
        raise InputError(f"{text}: the Hub has no revision {revision!r} of it") from None
