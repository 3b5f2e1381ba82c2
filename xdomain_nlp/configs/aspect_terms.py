"""Settings of recipes/aspect_terms.py (BIO aspect terms, SemEval-2014); values in aspect_terms_semeval14.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from xdomain_nlp.configs.common import TrainingConfig
from xdomain_nlp.training.config import setting


@dataclass
class AspectTermsConfig(TrainingConfig):
    model: str = "embedded:multilingual-e5-small"
    train: list[str] = setting(["absa:semeval14_restaurants:train"], corpus=True)
    eval: list[str] = setting(["absa:semeval14_restaurants:test"], corpus=True)
    train_limit: int = setting(0, minimum=0)
    eval_limit: int = setting(0, minimum=0)
    output_dir: str = "${runs}/aspect_terms"
    seed: int = 42
    epochs: int = setting(3, minimum=1)
    batch_size: int = setting(16, minimum=1)
    lr: float = setting(1.0e-4, above=0.0)
    head_lr: float = setting(2.0e-3, above=0.0)
    layer_decay: float = setting(0.9, above=0.0, maximum=1.0)
    weight_decay: float = setting(0.01, minimum=0.0)
    warmup_ratio: float = setting(0.1, minimum=0.0, below=1.0)
    max_length: int = setting(256, minimum=8)
    window_overlap: int = setting(64, minimum=0)
