"""Sentence classifiers as one object each: `SentimentClassifier` (plain and relational)."""

from xdomain_nlp.classification.sentiment import SentimentClassifier

__all__ = ["SentimentClassifier"]
