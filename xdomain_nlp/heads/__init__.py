"""Heads fitted on a trained tagger: word features, mapping heads for a new tag set, convention heads.

This sits above `tagging` (it reads a tagger's encoder states) and `labelspace` (pure tag-set and
mapping logic), so neither of those needs the other's model code.
"""

from xdomain_nlp.heads.features import WordFeatures, source_accuracy, word_features
from xdomain_nlp.heads.fit import (
    fit_convention_head,
    fit_head_on_features,
    fit_mapping_head,
    soft_cooccurrence,
    target_ids,
)
from xdomain_nlp.heads.train import train_head
from xdomain_nlp.heads.tune import tune_encoder, tune_on_projection

__all__ = [
    "WordFeatures",
    "fit_convention_head",
    "fit_head_on_features",
    "fit_mapping_head",
    "soft_cooccurrence",
    "source_accuracy",
    "target_ids",
    "train_head",
    "tune_encoder",
    "tune_on_projection",
    "word_features",
]
