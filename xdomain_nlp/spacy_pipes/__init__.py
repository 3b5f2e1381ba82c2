"""spaCy pipeline components (registered through the ``spacy_factories`` entry points).

    nlp = spacy.blank("de")
    nlp.add_pipe("xdomain_tagger", config={"model": "runs/pos_en_de/model"})
    doc = nlp("Der Monitor zeigt die Werte an.")

spacy-transformers does not run on transformers 5, so the components here own the bridge:
spaCy tokens are aligned to subwords, long documents are split into windows, and the model
weights travel with ``nlp.to_disk`` and ``spacy package``.
"""

from xdomain_nlp.spacy_pipes.parser import XDomainParser, make_parser
from xdomain_nlp.spacy_pipes.sentiment import XDomainSentiment, make_sentiment
from xdomain_nlp.spacy_pipes.tagger import XDomainTagger, make_tagger

__all__ = ["XDomainParser", "XDomainSentiment", "XDomainTagger", "make_parser", "make_sentiment", "make_tagger"]
