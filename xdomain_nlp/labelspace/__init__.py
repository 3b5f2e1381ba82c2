"""Label spaces: tag sets (UPOS, PTB, STTS, user files, BIO spans), mapping priors, mapping heads."""

from xdomain_nlp.labelspace.conventions import (
    ConventionRule,
    convention_tag_set,
    fit_convention_head,
    parse_rules,
    relabel,
)
from xdomain_nlp.labelspace.fit import fit_mapping_head, sample_sentences, soft_cooccurrence, target_ids
from xdomain_nlp.labelspace.heads import MappingHead, train_head
from xdomain_nlp.labelspace.mapping import MappingPrior, cooccurrence, declared_matrix
from xdomain_nlp.labelspace.tagsets import (
    BUILTIN,
    PTB_TAGS,
    STTS_TAGS,
    UPOS_TAGS,
    TagSet,
    TagSetError,
    UnknownTagError,
    load_tagset,
)

__all__ = [
    "BUILTIN",
    "ConventionRule",
    "PTB_TAGS",
    "STTS_TAGS",
    "UPOS_TAGS",
    "MappingHead",
    "MappingPrior",
    "TagSet",
    "TagSetError",
    "UnknownTagError",
    "convention_tag_set",
    "cooccurrence",
    "declared_matrix",
    "fit_convention_head",
    "fit_mapping_head",
    "load_tagset",
    "parse_rules",
    "relabel",
    "sample_sentences",
    "soft_cooccurrence",
    "target_ids",
    "train_head",
]
