"""Settings of recipes/self_training.py (self-training / few-shot fine-tuning of a transferred
tagger); values in self_training_de.yaml (self_training_few_shot_de.yaml is the few-shot variant)."""

from __future__ import annotations

from dataclasses import dataclass

from xdomain_nlp.configs.common import TrainingConfig
from xdomain_nlp.training.config import setting


@dataclass
class SelfTrainingConfig(TrainingConfig):
    source_model: str = "${runs}/pos_en_de/model"  # a tagger saved by recipes/pos_en_de.py
    unlabelled_target: str = setting("ud:de_gsd:dev", corpus=True)  # only the words are read
    target_limit: int = setting(0, minimum=0)
    train: list[str] = setting(["ud:en_ewt:train"], corpus=True)  # labelled source sentences mixed in
    source_sentences: int = setting(2000, minimum=0)  # how many (drawn per seed; 0 = none)
    convention: str = "ud_de"  # tag set of the target's conventions ("" = the source's)
    convention_rules: list[str] = setting(
        [
            "PRON[Poss=Yes] -> DET",
            "ADV[lemma=more/most/less/least/far/little] -> ADV",
            "ADV[Degree=Pos] -> ADJ",
            "ADV[Degree=Cmp] -> ADJ",
            "ADV[form=only/nearly/mostly/hardly/barely/merely/unfortunately/hopefully/usually/recently/"
            "currently/finally/eventually/initially/mainly/largely/especially/particularly/originally/"
            "repeatedly/apparently/obviously/virtually/literally/basically/actually/early/daily/likely/"
            "probably/certainly/possibly/definitely/clearly/seriously/honestly/personally/generally/"
            "normally/really/simply/immediately/exactly/naturally] -> ADV",
            "ADV[suffix=ly] -> ADJ",
            "ADJ[lemma=many/much/other/several/few/most/more/same] -> DET",
            "PRON[PronType=Tot] -> DET",
            "VERB[lemma=have/want] -> AUX",
            "PROPN[lemma=mr./mrs./ms./dr./dr/mr/mrs/ms/president/st.] -> NOUN",
            "NUM[lemma=million/billion/trillion] -> NOUN",
            "VERB[deprel=amod] -> ADJ",
            "NOUN[lemma=today/tomorrow/yesterday/tonight] -> ADV",
            "ADP[form=than/like] -> CCONJ",
            "ADV[lemma=ago] -> ADP",
        ]
    )
    convention_sentences: int = setting(2000, minimum=1)
    pseudo_labels: bool = True  # false: few-shot fine-tuning on target_labelled alone
    target_labelled: str = setting("", corpus=True)  # labelled target sentences ("" = none)
    target_k: int = setting(0, minimum=-1)  # how many of them, drawn per seed (-1 = all)
    rounds: int = setting(1, minimum=1)
    threshold: float = setting(0.9, minimum=0.0, maximum=1.0)
    balance: bool = True
    epochs: int = setting(1, minimum=1)
    batch_size: int = setting(16, minimum=1)
    lr: float = setting(2.0e-5, above=0.0)
    head_lr: float = setting(1.0e-4, above=0.0)
    layer_decay: float = setting(0.9, above=0.0, maximum=1.0)
    weight_decay: float = setting(0.01, minimum=0.0)
    warmup_ratio: float = setting(0.1, minimum=0.0, below=1.0)
    l2sp_alpha: float = setting(0.0, minimum=0.0)  # > 0: penalise drift from the source weights
    max_length: int = setting(256, minimum=8)
    window_overlap: int = setting(64, minimum=0)
    eval: list[str] = setting(["ud:de_gsd:test"], corpus=True)
    eval_limit: int = setting(0, minimum=0)
    seed: int = 0
    eval_max_tokens: int = setting(16384, minimum=1)
    output_dir: str = "${runs}/selftrain_de"

    def check(self) -> list[str]:
        problems = super().check()
        if not (self.pseudo_labels or (self.target_labelled and self.target_k) or self.source_sentences):
            problems.append(
                "nothing to train on: pseudo_labels is false, and neither target_labelled with target_k"
                " nor source_sentences gives labelled sentences"
            )
        if self.target_k and not self.target_labelled:
            problems.append(f"target_k = {self.target_k}: needs target_labelled (a labelled target corpus)")
        return problems
