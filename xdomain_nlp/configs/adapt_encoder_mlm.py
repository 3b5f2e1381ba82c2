"""Settings of recipes/adapt_encoder_mlm.py (masked-LM adaptation); values in adapt_encoder_mlm_food_movie.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from xdomain_nlp.configs.common import TrainingConfig
from xdomain_nlp.training.config import setting


@dataclass
class AdaptEncoderMLMConfig(TrainingConfig):
    model: str = "embedded:multilingual-e5-small"
    unlabelled: list[str] = setting(  # corpora whose text column is read; labels never are
        [
            "sentiment:sst2:train",
            "sentiment:yelp:all",
            "sentiment:semeval14_restaurants:train",
            "sentiment:semeval14_restaurants:test",
        ],
        corpus=True,
    )
    heldout_share: float = setting(0.05, minimum=0.0, below=1.0)
    output_dir: str = "${runs}/adapt_encoder_mlm_food_movie"
    seed: int = 0
    head_only_steps: int = setting(300, minimum=0)  # the new head alone, on the frozen encoder
    steps: int = setting(700, minimum=0)  # then encoder and head together
    batch_size: int = setting(32, minimum=1)
    mask_prob: float = setting(0.15, above=0.0, below=1.0)
    lr: float = setting(2.0e-5, above=0.0)
    head_lr: float = setting(1.0e-3, above=0.0)
    layer_decay: float = setting(1.0, above=0.0, maximum=1.0)
    weight_decay: float = setting(0.01, minimum=0.0)
    warmup_ratio: float = setting(0.06, minimum=0.0, below=1.0)
    freeze_embeddings: bool = True
    max_length: int = setting(128, minimum=8)
    window_overlap: int = setting(32, minimum=0)
    eval_every: int = setting(250, minimum=1)

    def check(self) -> list[str]:
        problems = super().check()
        if self.head_only_steps + self.steps == 0:
            problems.append("head_only_steps and steps are both 0: nothing would be trained")
        return problems
