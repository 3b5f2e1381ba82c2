"""Settings of recipes/custom_tagset.py (a new tag set from k target sentences); values in
custom_tagset_stts.yaml (custom_tagset_ptb.yaml is the PTB variant)."""

from __future__ import annotations

from dataclasses import dataclass

from xdomain_nlp.configs.common import INFER_PRECISION, TrainingConfig
from xdomain_nlp.training.config import setting


@dataclass
class CustomTagsetConfig(TrainingConfig):
    source_model: str = "${runs}/pos_en_de/model"  # a tagger saved by recipes/pos_en_de.py
    target_tag_set: str = "stts"  # upos | ptb | stts | path to a YAML/JSON tag-set file
    target_column: str = "xpos"  # the column holding target tags in the corpora below
    train: list[str] = setting(["ud:de_gsd:dev"], corpus=True)  # pool the k labelled sentences come from
    k: int = setting(100, minimum=-1)  # target sentences used (0 = prior only; -1 = the whole pool)
    seed: int = 0
    eval: list[str] = setting(["ud:de_gsd:test"], corpus=True)
    prior_corpora: list[str] = setting([], corpus=True)  # extra corpora annotated with both tag sets
    source_column: str = "upos"
    declared_weight: float = setting(1.0, minimum=0.0)
    projection: str | None = "ud_en_stts"  # rules writing source sentences in the target tag set (null = none)
    projection_corpus: list[str] = setting(["ud:en_ewt:train"], corpus=True)
    projection_sentences: int = setting(4000, minimum=-1)  # seeded sample (-1 = all)
    projection_share: float = setting(1.0, minimum=0.0)
    projection_epochs: int = setting(20, minimum=1)
    projection_tune_steps: int = setting(1500, minimum=0)  # > 0: first tune the encoder on the projected treebank
    projection_tune_sentences: int = setting(-1, minimum=-1)
    projection_tune_lr: float = setting(1.0e-4, above=0.0)
    feature_layers: list[int] = setting([4, 12], minimum=0)  # the head reads the mean of these layers
    epochs: int = setting(60, minimum=1)  # passes over the k sentences' words (states are cached)
    lr: float = setting(5.0e-3, above=0.0)
    weight_decay: float = setting(1.0e-2, minimum=0.0)
    tune_steps: int = setting(0, minimum=0)  # > 0: then tune encoder + head together
    tune_batch_size: int = setting(16, minimum=1)
    tune_lr: float = setting(2.0e-4, above=0.0)
    tune_head_lr: float = setting(1.0e-3, above=0.0)
    layer_decay: float = setting(0.9, above=0.0, maximum=1.0)
    mixed_precision: str = setting("native", choices=("auto", "native", "no", "bf16", "fp16"))
    output_dir: str = "${runs}/custom_tagset_stts"
    infer_precision: str = setting("auto", choices=INFER_PRECISION)

    def check(self) -> list[str]:
        problems = super().check()
        if self.projection_tune_steps > 0 and not self.projection:
            problems.append("projection_tune_steps > 0 needs a projection (e.g. projection=ud_en_stts)")
        if len(self.feature_layers) != 2:
            problems.append(f"feature_layers = {self.feature_layers}: give two layers, e.g. [4, 12]")
        return problems
