"""Settings of recipes/sentiment_blitzer.py (the Amazon multi-domain benchmark); values in sentiment_blitzer.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from xdomain_nlp.configs.common import output_dir_problems
from xdomain_nlp.training.config import RecipeConfig, setting

DOMAINS = ("books", "dvd", "electronics", "kitchen")
METHODS = ("source_only", "domain_norm", "self_training")


@dataclass
class SentimentBlitzerConfig(RecipeConfig):
    model: str = "embedded:multilingual-e5-small"
    domains: list[str] = setting(list(DOMAINS), choices=DOMAINS)
    methods: list[str] = setting(list(METHODS), choices=METHODS)
    max_length: int = setting(512, minimum=8)  # encoder window; a longer review is averaged over windows
    Cs: list[float] = setting([0.01, 0.1, 1.0, 10.0], above=0.0)
    self_training_shares: list[float] = setting([0.2, 0.4, 0.6, 0.8], above=0.0, maximum=1.0)
    folds: int = setting(2, minimum=2)
    seed: int = 0
    limit: int = setting(0, minimum=0)  # > 0: only the first N reviews of each file
    output_dir: str = "${runs}/sentiment_blitzer"

    def check(self) -> list[str]:
        return output_dir_problems(self.output_dir)
