"""The model folder: one format, one save and one open for every kind of model the package trains.

``save_model(model, path, tokenizer)`` writes it and ``open_model(path_or_hub_id, Kind)`` reads it
(a Hub id is downloaded once into the `huggingface_hub` cache); each kind gives only its parts.

Example (``tagger_dir``: any saved model folder, or a Hub id)::

    >>> from xdomain_nlp.modeldir import resolve
    >>> folder, meta = resolve(tagger_dir)
    >>> meta["task"], (folder / "model.safetensors").is_file()
    ('tagging', True)
"""

from xdomain_nlp.modeldir.download import local_model_dir
from xdomain_nlp.modeldir.folder import (
    FolderParts,
    copy_into,
    load_heads,
    open_model,
    resolve,
    safetensors_problem,
    save_model,
)
from xdomain_nlp.modeldir.meta import FORMAT, TASKS, XDOMAIN_FILE, read_model_meta, window_settings, write_model_meta

__all__ = [
    "FORMAT",
    "TASKS",
    "XDOMAIN_FILE",
    "FolderParts",
    "copy_into",
    "load_heads",
    "local_model_dir",
    "open_model",
    "read_model_meta",
    "resolve",
    "safetensors_problem",
    "save_model",
    "window_settings",
    "write_model_meta",
]
