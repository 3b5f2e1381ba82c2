"""A model folder from a local path or the Hugging Face Hub (downloaded once, then read offline)."""

from __future__ import annotations

import os
from pathlib import Path

from huggingface_hub import snapshot_download
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id


def local_model_dir(name: str | os.PathLike, revision: str | None = None) -> Path:
    """``name`` itself when it is a directory, else a snapshot of the Hub repo ``name``.

    Snapshots land in the `huggingface_hub` cache (``HF_HOME``) and are reused offline
    (``HF_HUB_OFFLINE=1``) once downloaded.
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
    return Path(snapshot_download(text, revision=revision))
