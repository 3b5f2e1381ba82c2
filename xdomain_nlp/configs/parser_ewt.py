"""Settings of recipes/parser_ewt.py (biaffine dependency parser on EWT); values in parser_ewt.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from xdomain_nlp.configs.common import TrainingConfig
from xdomain_nlp.training.config import setting


@dataclass
class ParserConfig(TrainingConfig):
    model: str = "embedded:multilingual-e5-small"
    train: list[str] = setting(["ud:en_ewt:train"], corpus=True)
    train_limit: int = setting(0, minimum=0)
    eval: list[str] = setting(["ud:en_ewt:dev", "ud:en_ewt:test"], corpus=True)
    eval_limit: int = setting(0, minimum=0)
    output_dir: str = "${runs}/parser_ewt"
    seed: int = 42
    epochs: int = setting(2, minimum=1)
    batch_size: int = setting(32, minimum=1)
    lr: float = setting(1.0e-4, above=0.0)
    head_lr: float = setting(2.0e-3, above=0.0)
    layer_decay: float = setting(0.9, above=0.0, maximum=1.0)
    weight_decay: float = setting(0.01, minimum=0.0)
    warmup_ratio: float = setting(0.1, minimum=0.0, below=1.0)
    max_grad_norm: float = setting(5.0, minimum=0.0)
    freeze_embeddings: bool = True
    arc_dim: int = setting(384, minimum=1)
    rel_dim: int = setting(128, minimum=1)
    dropout: float = setting(0.2, minimum=0.0, below=1.0)
    max_length: int = setting(256, minimum=8)
    window_overlap: int = setting(64, minimum=0)
    eval_max_tokens: int = setting(16384, minimum=1)
