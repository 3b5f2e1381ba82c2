"""Settings of recipes/bias_correction.py (re-weighting, DANN and label shift, Food -> Movie);
values in bias_correction_food_movie.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from xdomain_nlp.configs.common import output_dir_problems
from xdomain_nlp.training.config import RecipeConfig, setting

METHODS = ("none", "domain_classifier", "kmm", "kliep", "mlp", "dann")


@dataclass
class BiasCorrectionConfig(RecipeConfig):
    model: str = "embedded:multilingual-e5-small"
    train: list[str] = setting(["sentiment:yelp:all", "sentiment:semeval14_restaurants:train"], corpus=True)
    unlabelled_target: list[str] = setting(["sentiment:sst2:train"], corpus=True)  # labels never read
    held_out: str = setting("sentiment:sst2:dev", corpus=True)  # labelled target data the guard checks on
    eval: list[str] = setting(["sentiment:sst2:test", "sentiment:imdb:all"], corpus=True)
    methods: list[str] = setting(list(METHODS), choices=METHODS)
    seeds: list[int] = setting([0, 1, 2])
    source_fraction: float = setting(0.8, above=0.0, maximum=1.0)
    target_sample: int = setting(1500, minimum=1)
    clip: float = setting(10.0, minimum=0.0)
    dann_hidden: int = setting(64, minimum=1)
    dann_epochs: int = setting(40, minimum=1)
    dann_strength: float = setting(1.0, minimum=0.0)
    C: float = setting(1.0, above=0.0)
    label_shift_train: str = setting("sentiment:sst2:train", corpus=True)
    label_shift_calibration: str = setting("sentiment:sst2:dev", corpus=True)
    label_shift_target: str = setting("sentiment:sst2:test", corpus=True)
    label_shift_positive: float = setting(0.9, above=0.0, below=1.0)
    output_dir: str = "${runs}/shift_food_movie"

    def check(self) -> list[str]:
        return output_dir_problems(self.output_dir)
