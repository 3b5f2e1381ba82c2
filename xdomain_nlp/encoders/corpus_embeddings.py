"""Frozen embeddings of whole labelled corpora, cached on disk per (model, corpus text).

Classifiers on a frozen encoder (re-weighting, label shift, the Amazon benchmark) train in
seconds; encoding the corpus is the expensive part, so it is done once per model and text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from xdomain_nlp.data import cache_dir, load_corpus
from xdomain_nlp.devices import inference_dtype, pick_device
from xdomain_nlp.encoders.pooling import embed_texts
from xdomain_nlp.encoders.resolve import load_encoder, load_tokenizer


def model_identity(model: str) -> str:
    """The model name, plus size and time of its weights when it is a local directory (which can change)."""
    weights = Path(model) / "model.safetensors"
    if weights.is_file():
        stat = weights.stat()
        return f"{Path(model).resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return model


class CorpusEmbedder:
    """``embedder(spec) -> (vectors, labels)``; loads the encoder only when some corpus is not cached."""

    def __init__(self, model: str, *, prefix: str = "query: ", max_length: int = 256) -> None:
        self.model = model
        self.prefix = prefix
        self.max_length = max_length
        self._loaded: tuple | None = None

    def __call__(self, spec: str, limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Vectors and labels of ``spec``; ``limit`` > 0 keeps only its first ``limit`` texts."""
        data = load_corpus(spec)
        if 0 < limit < len(data):
            data = data.select(range(limit))
        texts, labels = data["text"], np.asarray(data["label"])
        digest = hashlib.sha1(f"{model_identity(self.model)}|{self.prefix}|mean|v2|".encode())
        if self.max_length != 256:  # the default keeps the key (and the cache files) of earlier versions
            digest.update(f"max_length={self.max_length}|".encode())
        digest.update("\n".join(texts).encode())
        name = spec.replace(":", "_").replace("/", "_")
        path = cache_dir() / "embeddings" / f"{name}-{digest.hexdigest()[:16]}.npy"
        if path.is_file():
            return np.load(path), labels
        if self._loaded is None:
            self._loaded = (load_encoder(self.model).to(pick_device("auto")), load_tokenizer(self.model))
        encoder, tokenizer = self._loaded
        x = embed_texts(
            self.model,
            texts,
            prefix=self.prefix,
            max_length=self.max_length,
            encoder=encoder,
            tokenizer=tokenizer,
            autocast_dtype=inference_dtype(encoder),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, x)
        return x, labels
