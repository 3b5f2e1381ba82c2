"""Label spaces: tag sets (UPOS, PTB, STTS, user files, BIO spans), mapping priors, mapping heads,
conventions and projections (a source treebank rewritten in another tag set by rules).

Pure label logic: nothing here reads a tagger. Fitting heads on a tagger is `xdomain_nlp.heads`."""

from xdomain_nlp.labelspace.conventions import (
    NO_COUNTERPART,
    ConventionRule,
    convention_tag_set,
    parse_rules,
    relabel,
)
from xdomain_nlp.labelspace.mapping import MappingPrior, cooccurrence, declared_matrix
from xdomain_nlp.labelspace.mapping_head import MappingHead
from xdomain_nlp.labelspace.projection import PROJECTED_COLUMN, Projection, load_projection, project_sample
from xdomain_nlp.labelspace.sampling import sample_sentences
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
    "NO_COUNTERPART",
    "BUILTIN",
    "ConventionRule",
    "PTB_TAGS",
    "STTS_TAGS",
    "UPOS_TAGS",
    "MappingHead",
    "MappingPrior",
    "PROJECTED_COLUMN",
    "Projection",
    "TagSet",
    "TagSetError",
    "UnknownTagError",
    "convention_tag_set",
    "cooccurrence",
    "declared_matrix",
    "load_projection",
    "load_tagset",
    "parse_rules",
    "project_sample",
    "relabel",
    "sample_sentences",
]
