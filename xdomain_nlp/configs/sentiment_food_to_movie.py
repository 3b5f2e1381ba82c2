"""Settings of recipes/sentiment_food_to_movie.py (relational transfer, Food -> Movie); values in
sentiment_food_to_movie.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from xdomain_nlp.configs.common import TrainingConfig
from xdomain_nlp.relational.relations import OPINION_RELATIONS, RELATION_TYPES
from xdomain_nlp.training.config import setting

METHODS = ("plain", "relational", "relational+lexicon")


@dataclass
class SentimentTransferConfig(TrainingConfig):
    model: str = "embedded:multilingual-e5-small"
    parser: str = "${runs}/parser_ewt/model"  # a directory written by recipes/parser_ewt.py
    train: list[str] = setting(
        ["sentiment:yelp:all", "sentiment:semeval14_restaurants:train", "sentiment:semeval14_restaurants:test"],
        corpus=True,
    )
    eval: list[str] = setting(["sentiment:sst2:test", "sentiment:imdb:all"], corpus=True)
    methods: list[str] = setting(list(METHODS), choices=METHODS)
    unlabelled_target: list[str] = setting(["sentiment:sst2:train"], corpus=True)  # labels never read
    topics: str = setting("absa:semeval14_restaurants:train", corpus=True)  # Food aspect terms
    lexicon_split_seed: int = 0
    lexicon_rounds: int = setting(4, minimum=1)
    lexicon_per_round: int = setting(60, minimum=1)
    pseudo_per_class: int = setting(1000, minimum=1)
    pseudo_min_confidence: float = setting(0.7, minimum=0.0, maximum=1.0)
    teacher: list[str] = setting(["relational"], choices=("plain", "relational"))
    pivot_mask: float = setting(0.0, minimum=0.0, maximum=1.0)
    class_balance: bool = False
    label_shift: str = setting("none", choices=("none", "em"))
    student_init: str = setting("encoder", choices=("encoder", "teacher"))
    student_data: str = setting("source+pseudo", choices=("source+pseudo", "pseudo"))
    seeds: list[int] = setting([0, 1, 2])
    ablate: list[str] = setting(
        ["amod", "advmod", "neg", "conj", "cc", "nsubj", "obj", "comp", "cop", "compound"], choices=RELATION_TYPES
    )
    ablate_on: str = setting("sentiment:sst2:test", corpus=True)
    graph_layers: int = setting(2, minimum=1)
    pooling: str = setting("words", choices=("words", "edges"))
    pool_relations: list[str] = setting(list(OPINION_RELATIONS), choices=RELATION_TYPES)
    num_bases: int = setting(8, minimum=1)
    dropout: float = setting(0.1, minimum=0.0, below=1.0)
    epochs: int = setting(2, minimum=1)
    batch_size: int = setting(32, minimum=1)
    lr: float = setting(5.0e-5, above=0.0)
    head_lr: float = setting(1.0e-3, above=0.0)
    layer_decay: float = setting(0.9, above=0.0, maximum=1.0)
    weight_decay: float = setting(0.01, minimum=0.0)
    warmup_ratio: float = setting(0.1, minimum=0.0, below=1.0)
    max_length: int = setting(256, minimum=8)
    window_overlap: int = setting(64, minimum=0)
    train_limit: int = setting(0, minimum=0)  # N training (and unlabelled) sentences (0 = all); for smoke runs
    eval_limit: int = setting(0, minimum=0)
    output_dir: str = "${runs}/sentiment_food_to_movie"

    def check(self) -> list[str]:
        problems = super().check()
        if not self.seeds:
            problems.append("seeds is empty: give at least one seed")
        if not self.teacher:
            problems.append("teacher is empty: name plain and/or relational")
        if self.ablate and self.ablate_on not in self.eval:
            problems.append(f"ablate_on = {self.ablate_on}: must be one of eval ({', '.join(self.eval)})")
        return problems
