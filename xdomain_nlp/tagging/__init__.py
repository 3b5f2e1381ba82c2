"""Tagging: word/subword alignment, windows, the token tagger, and prediction."""

from xdomain_nlp.tagging.alignment import EncodedWindow, WordPieceCache, encode_sentence, plan_windows
from xdomain_nlp.tagging.data import (
    UPOS,
    UnknownLabelError,
    WindowCollator,
    capitalisation_noise,
    collate_windows,
    encode_corpus,
    with_word_weights,
)
from xdomain_nlp.tagging.evaluation import score_tagger
from xdomain_nlp.tagging.interop import pipeline_word_tags
from xdomain_nlp.tagging.network import TokenTagger, load_tagger
from xdomain_nlp.tagging.predict import predict_tag_sets, predict_windows, token_budget_batches

__all__ = [
    "UPOS",
    "EncodedWindow",
    "TokenTagger",
    "UnknownLabelError",
    "WordPieceCache",
    "capitalisation_noise",
    "collate_windows",
    "encode_corpus",
    "encode_sentence",
    "load_tagger",
    "pipeline_word_tags",
    "plan_windows",
    "predict_tag_sets",
    "predict_windows",
    "score_tagger",
    "token_budget_batches",
    "WindowCollator",
    "with_word_weights",
]
