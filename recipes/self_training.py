"""Self-training a transferred tagger on unlabelled target text (no target labels are read).

    python recipes/self_training.py --config recipes/configs/self_training_de.yaml
    python recipes/self_training.py --config recipes/configs/self_training_de.yaml threshold=0.95 l2sp_alpha=0.01

1. Tag the target text with the source tagger; keep confident predictions as labels
   (class-balanced: every tag keeps its most confident share, not only the easy tags).
2. Fine-tune on those words mixed with labelled source sentences (which keep the source task
   anchored), optionally with L2-SP pulling the weights towards the source model.
3. Repeat for ``rounds``; score before and after on the eval sets, and let the negative-transfer
   guard flag any set that got worse.

With ``convention`` the tagger is self-trained into the target treebank's annotation conventions
(German UD tags possessives DET, adverbially used adjectives ADJ, modals AUX, where English UD
does not): a constrained convention head is fitted on source sentences relabelled by
``convention_rules``, and self-training then runs through that head: it gives the pseudo-labels,
the source sentences mixed in are relabelled by the same rules, and it is scored and saved as the
model's tag set of that name. Still no target label is read.

With ``target_labelled`` and ``target_k`` the same loop is few-shot target fine-tuning: k labelled
target sentences join the mix (``pseudo_labels: false`` leaves the pseudo-labels out), and
``l2sp_alpha`` is the soft weight sharing that keeps k sentences from pulling the model far:

    python recipes/self_training.py --config recipes/configs/self_training_few_shot_de.yaml target_k=50 l2sp_alpha=0.01
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace

import torch
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import SelfTrainingConfig
from xdomain_nlp.data import load_corpora, load_corpus
from xdomain_nlp.errors import run_for_people
from xdomain_nlp.heads import fit_convention_head
from xdomain_nlp.labelspace import parse_rules, relabel, sample_sentences
from xdomain_nlp.shift import check_negative_transfer
from xdomain_nlp.shift.selftrain import L2SP, select_pseudo_labels
from xdomain_nlp.tagging import (
    WindowCollator,
    WordPieceCache,
    encode_corpus,
    load_tagger,
    predict_windows,
)
from xdomain_nlp.training import (
    checkpoint_dir,
    finish_run,
    fit,
    inference_dtype,
    loader_settings,
    lr_scale,
    make_accelerator,
    make_optimizer,
    parse_recipe_args,
    scaled_epochs,
    scheduler_steps,
    stopped_early,
    tagging_report,
    train_batches,
    transfer_param_groups,
    weighted_cross_entropy,
)


class SelfTrainingRecipe:
    """`setup` loads the tagger and every corpus once (and fits the convention head); `train` runs
    the rounds (pseudo-labels, then fine-tuning), scoring after each; `save` writes the model."""

    def __init__(self, cfg: SelfTrainingConfig) -> None:
        self.cfg = cfg
        self.accelerator = make_accelerator(cfg)

    def setup(self) -> None:
        cfg, acc = self.cfg, self.accelerator
        set_seed(cfg.seed)
        self.model, self.tokenizer, self.meta = load_tagger(cfg.source_model)
        self.label2id = {t: i for i, t in enumerate(self.model.labels)}
        self.pieces = WordPieceCache(self.tokenizer)
        self.dtype = inference_dtype(acc.device)
        self.label_column = self.meta.get("config", {}).get("label_column", "upos")

        # Every corpus is read and encoded once; rounds only re-predict.
        self.eval_sets = {}
        for spec in cfg.eval:
            corpus = load_corpora(spec, cfg.eval_limit)
            gold = [[self.label2id[t] for t in tags] for tags in corpus[self.label_column]]
            self.eval_sets[spec] = (self.encode(corpus), gold)
        self.model.to(acc.device)
        source = load_corpora(cfg.train)
        self.convention = cfg.convention or None
        if self.convention:
            # Self-training runs through the convention head: it gives the pseudo-labels and is trained.
            rules = parse_rules(cfg.convention_rules, self.model.labels)
            _, changed = fit_convention_head(
                self.model, self.tokenizer, source, self.convention, rules, sentences=cfg.convention_sentences,
                seed=cfg.seed, autocast_dtype=self.dtype,
            )  # fmt: skip
            acc.print(f"convention {self.convention!r}: relabelled source words {dict(changed)}")
        self.before = self.evaluate()  # with a convention, every score is of its head
        acc.print("before: " + ", ".join(f"{k} {v:.2f}" for k, v in self.before.items()))
        if cfg.pseudo_labels:
            target = load_corpora(cfg.unlabelled_target, cfg.target_limit).select_columns(["words"])
            self.target_sentences, self.target_windows = len(target), self.encode(target)
        rng = random.Random(cfg.seed)
        source_pick = sorted(rng.sample(range(len(source)), min(cfg.source_sentences, len(source))))
        self.source_windows = []
        if source_pick:
            mixed_in = source.select(source_pick)
            if self.convention:  # the English sentences mixed in follow the convention too
                mixed_in, _ = relabel(mixed_in, rules, column=self.label_column, new_column="convention")
            self.source_windows = self.encode(mixed_in, labelled=True, column="convention" if self.convention else None)
        self.labelled_target = []
        if cfg.target_labelled and cfg.target_k:
            pool = load_corpus(cfg.target_labelled)
            chosen = pool.select(sample_sentences(len(pool), cfg.target_k, cfg.seed))
            self.labelled_target = self.encode(chosen, labelled=True)
        self.l2sp = L2SP(self.model, alpha=cfg.l2sp_alpha, skip=("classifier",)) if cfg.l2sp_alpha > 0 else None

    def encode(self, corpus, labelled: bool = False, column: str | None = None) -> list:
        column = (column or self.label_column) if labelled else None
        return encode_corpus(
            corpus, self.tokenizer, label_column=column, label2id=self.label2id, max_length=self.cfg.max_length,
            overlap=self.cfg.window_overlap, cache=self.pieces,
        )  # fmt: skip

    def predict(self, windows: list, n_sentences: int) -> tuple:
        return predict_windows(
            self.model, windows, n_sentences, pad_id=self.tokenizer.pad_token_id,
            max_tokens=self.cfg.eval_max_tokens, autocast_dtype=self.dtype, tag_set=self.convention,
        )  # fmt: skip

    def evaluate(self) -> dict[str, float]:
        """Accuracy on each eval set (of the convention head, when there is one)."""
        scores = {}
        for spec, (windows, gold) in self.eval_sets.items():
            pred, _ = self.predict(windows, len(gold))
            scores[spec] = tagging_report(gold, pred, self.model.labels)["accuracy"]
        return scores

    def train(self) -> bool:
        """Each round: pseudo-labels from the current model, then fine-tuning on them, the labelled
        target (few-shot) and the labelled source; False when stopped early by ``stop_after_steps``."""
        cfg, acc = self.cfg, self.accelerator
        self.rounds = []
        for round_ in range(cfg.rounds):
            pseudo, summary = [], {"kept": 0, "words": 0}
            if cfg.pseudo_labels:
                pred, prob = self.predict(self.target_windows, self.target_sentences)
                labels, summary = select_pseudo_labels(
                    pred, prob, threshold=cfg.threshold, balance=cfg.balance, n_classes=len(self.label2id)
                )
                windows = self.target_windows
                pseudo = [replace(w, labels=[labels[w.sentence][i] for i in w.word_indices]) for w in windows]
                acc.print(f"round {round_ + 1}: {summary['kept']} of {summary['words']} target words pseudo-labelled")
                if summary["kept"] == 0:
                    acc.print(f"WARNING: no target word reached threshold={cfg.threshold}; no pseudo-labels this round")
            train = pseudo + self.labelled_target + self.source_windows
            sampler = train_batches(cfg, acc, [len(w.input_ids) for w in train], seed=cfg.seed)
            loader = DataLoader(
                train, batch_sampler=sampler, collate_fn=WindowCollator(self.tokenizer.pad_token_id),
                generator=torch.Generator().manual_seed(cfg.seed), **loader_settings(acc),
            )  # fmt: skip
            scale = lr_scale(cfg, acc, sampler)  # > 1 for token budgets larger than batch_size sentences
            groups = transfer_param_groups(
                self.model, lr=cfg.lr * scale, head_lr=cfg.head_lr * scale, layer_decay=cfg.layer_decay,
                weight_decay=cfg.weight_decay,
            )  # fmt: skip
            optimizer = make_optimizer(groups, cfg.lr * scale, acc)
            epochs = scaled_epochs(cfg.epochs, scale)
            steps = scheduler_steps(len(sampler), epochs, acc)
            scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)
            model_p, optimizer, loader, scheduler = acc.prepare(self.model, optimizer, loader, scheduler)
            result = fit(
                model_p, optimizer, loader, self.loss, accelerator=acc, scheduler=scheduler, epochs=epochs,
                max_grad_norm=cfg.max_grad_norm, checkpoints=checkpoint_dir(cfg, f"round{round_ + 1}"),
                checkpoint_every=cfg.checkpoint_every, stop_after_steps=cfg.stop_after_steps,
                desc=f"round {round_ + 1}", log_every=cfg.log_every,
            )  # fmt: skip
            if stopped_early(result, acc, f" in round {round_ + 1}"):
                return False
            self.model = acc.unwrap_model(model_p)
            scores = self.evaluate()
            speed = {"train_seconds": result.train_seconds, "train_pieces_per_s": result.pieces_per_s,
                     "lr_scale": scale, "epochs_trained": epochs}  # fmt: skip
            self.rounds.append({"round": round_ + 1, "pseudo_labels": summary, "scores": scores, **speed})
            acc.print(f"round {round_ + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in scores.items()))
        return True

    def loss(self, model_p, batch: dict) -> torch.Tensor:
        logits = model_p(batch["input_ids"], batch["attention_mask"], batch["word_index"], tag_set=self.convention)
        value = weighted_cross_entropy(logits, batch["labels"])
        return value + self.l2sp.penalty(self.accelerator.unwrap_model(model_p)) if self.l2sp is not None else value

    def save(self) -> dict:
        """The adapted model (scores by tag set for its card), metrics.json with the negative-transfer guard."""
        cfg, before, convention = self.cfg, self.before, self.convention
        after = self.rounds[-1]["scores"] if self.rounds else before
        guard = [check_negative_transfer("self-training", s, before[s], after[s]).to_dict() for s in cfg.eval]
        extra = {k: v for k, v in self.meta.items() if k not in ("task", "labels", "mapping_heads")}
        extra["self_training"] = {
            "target_text": cfg.unlabelled_target if cfg.pseudo_labels else None,
            "target_labelled": f"{cfg.target_labelled} ({cfg.target_k} sentences)" if self.labelled_target else None,
            "rounds": cfg.rounds,
            "convention": {"name": convention, "rules": cfg.convention_rules} if convention else None,
        }
        scores = {k: round(v, 2) for k, v in after.items()}
        if convention:  # the scores are the convention head's; the source head was not scored after
            extra.pop("metrics", None)
            extra["metrics_by_tag_set"] = {**extra.get("metrics_by_tag_set", {}), convention: scores}
        else:
            extra["metrics"] = scores
        # results: the scores after adapting (the convention head's when there is one), as every recipe's.
        results = {spec: {"accuracy": after[spec], "before": before[spec]} for spec in after}
        recorded = {"before": before, "after": after, "rounds": self.rounds, "guard": guard}
        metrics = finish_run(
            cfg, results, accelerator=self.accelerator,
            command="python recipes/self_training.py " + " ".join(sys.argv[1:]),
            save=lambda out: self.model.save(out / "model", self.tokenizer, extra), **recorded,
        )  # fmt: skip
        return {k: metrics[k] for k in ("config", "setup", "run")} | recorded


def main(argv: list[str] | None = None) -> dict:
    recipe = SelfTrainingRecipe(parse_recipe_args(__doc__, SelfTrainingConfig, argv))
    recipe.setup()
    if not recipe.train():
        return {}
    return recipe.save()


if __name__ == "__main__":
    run_for_people(main)
