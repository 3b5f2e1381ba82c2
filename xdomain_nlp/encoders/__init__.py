"""Encoders: resolve ``--model`` to a `transformers` checkpoint; embedded e5-small; trimming."""

from xdomain_nlp.encoders.embedded import EMBEDDED_PREFIX, convert_e5s1
from xdomain_nlp.encoders.pooling import embed_texts
from xdomain_nlp.encoders.resolve import DEFAULT_MODEL, load_encoder, load_tokenizer, resolve_model
from xdomain_nlp.encoders.trim import trim_vocabulary

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED_PREFIX",
    "convert_e5s1",
    "embed_texts",
    "load_encoder",
    "load_tokenizer",
    "resolve_model",
    "trim_vocabulary",
]
