"""Encoders: resolve ``--model`` to a `transformers` checkpoint; embedded e5-small; trimming; MLM adaptation."""

from xdomain_nlp.encoders.embedded import EMBEDDED_PREFIX, convert_e5s1
from xdomain_nlp.encoders.mlm import MaskedLMAdapter, load_masked_lm, save_adapted_encoder, text_windows
from xdomain_nlp.encoders.pooling import embed_texts
from xdomain_nlp.encoders.resolve import DEFAULT_MODEL, load_encoder, load_tokenizer, resolve_model
from xdomain_nlp.encoders.trim import trim_vocabulary

__all__ = [
    "DEFAULT_MODEL",
    "EMBEDDED_PREFIX",
    "MaskedLMAdapter",
    "convert_e5s1",
    "embed_texts",
    "load_encoder",
    "load_masked_lm",
    "load_tokenizer",
    "resolve_model",
    "save_adapted_encoder",
    "text_windows",
    "trim_vocabulary",
]
