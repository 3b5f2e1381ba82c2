"""xdomain_nlp: transfer learning for NLP across languages and domains."""

__version__ = "0.1.0"
