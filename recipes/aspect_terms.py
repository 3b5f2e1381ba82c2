"""Aspect term extraction as BIO tagging: SemEval-2014 restaurants, train -> test, seqeval span F1.

    python recipes/aspect_terms.py --config recipes/configs/aspect_terms_semeval14.yaml
    accelerate launch recipes/aspect_terms.py --config recipes/configs/aspect_terms_semeval14.yaml

The extracted terms are the topic side of the Food lexicon (xdomain_nlp.relational.lexicon):
what diners talk about, which the co-extraction links to the opinion words describing it.
"""

from __future__ import annotations

import torch
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import AspectTermsConfig
from xdomain_nlp.data import load_corpora
from xdomain_nlp.data.aspects import ASPECT_TAGS
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.errors import run_for_people
from xdomain_nlp.tagging import (
    TokenTagger,
    WindowCollator,
    WordPieceCache,
    encode_corpus,
    predict_windows,
)
from xdomain_nlp.training import (
    checkpoint_dir,
    finish_run,
    fit,
    loader_settings,
    lr_scale,
    make_accelerator,
    make_optimizer,
    parse_recipe_args,
    scaled_epochs,
    scheduler_steps,
    span_report,
    stopped_early,
    train_batches,
    transfer_param_groups,
    weighted_cross_entropy,
)


class AspectTermsRecipe:
    """Read the config, build everything in `setup`, run the loop in `train`, then `evaluate` and `save`."""

    def __init__(self, cfg: AspectTermsConfig) -> None:
        self.cfg = cfg
        self.accelerator = make_accelerator(cfg)

    def setup(self) -> None:
        cfg, acc = self.cfg, self.accelerator
        set_seed(cfg.seed)
        self.tokenizer = load_tokenizer(cfg.model)
        self.pieces = WordPieceCache(self.tokenizer)
        self.label2id = {t: i for i, t in enumerate(ASPECT_TAGS)}

        # 1. Data and model: a fresh BIO head on the encoder.
        _, train_windows = self.encode(cfg.train, cfg.train_limit)
        sampler = train_batches(cfg, acc, [len(w.input_ids) for w in train_windows], seed=cfg.seed)
        loader = DataLoader(
            train_windows, batch_sampler=sampler, collate_fn=WindowCollator(self.tokenizer.pad_token_id),
            generator=torch.Generator().manual_seed(cfg.seed), **loader_settings(acc),
        )  # fmt: skip
        model = TokenTagger.from_encoder(cfg.model, ASPECT_TAGS)
        model.source_tag_set = "aspects"

        # 2. Optimizer: layer-wise decay on the encoder, a faster rate for the head.
        self.lr_scale = lr_scale(cfg, acc, sampler)  # > 1 for token budgets larger than batch_size sentences
        groups = transfer_param_groups(
            model, lr=cfg.lr * self.lr_scale, head_lr=cfg.head_lr * self.lr_scale, layer_decay=cfg.layer_decay,
            weight_decay=cfg.weight_decay,
        )  # fmt: skip
        optimizer = make_optimizer(groups, cfg.lr * self.lr_scale, acc)
        self.epochs = scaled_epochs(cfg.epochs, self.lr_scale)
        steps = scheduler_steps(len(sampler), self.epochs, acc)
        scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)
        self.model, self.optimizer, self.loader, self.scheduler = acc.prepare(model, optimizer, loader, scheduler)

    def encode(self, spec: str | list[str], limit: int = 0):
        """A corpus (its first ``limit`` sentences when set) and its windows with BIO labels."""
        corpus = load_corpora(spec, limit)
        windows = encode_corpus(
            corpus, self.tokenizer, label_column="aspect_tags", label2id=self.label2id,
            max_length=self.cfg.max_length, overlap=self.cfg.window_overlap, cache=self.pieces,
            source=" + ".join([spec] if isinstance(spec, str) else spec),
        )  # fmt: skip
        return corpus, windows

    def loss(self, model, batch: dict) -> torch.Tensor:
        logits = model(batch["input_ids"], batch["attention_mask"], batch["word_index"])
        return weighted_cross_entropy(logits, batch["labels"])

    def train(self) -> bool:
        """The shared loop; False when stopped early by ``stop_after_steps`` (run again to resume)."""
        cfg = self.cfg
        self.result = fit(
            self.model, self.optimizer, self.loader, self.loss, accelerator=self.accelerator,
            scheduler=self.scheduler, epochs=self.epochs, max_grad_norm=cfg.max_grad_norm,
            checkpoints=checkpoint_dir(cfg), checkpoint_every=cfg.checkpoint_every,
            stop_after_steps=cfg.stop_after_steps, log_every=cfg.log_every,
        )  # fmt: skip
        return not stopped_early(self.result, self.accelerator)

    def evaluate(self) -> dict:
        """Span precision, recall and F1 on each eval set, on the main process."""
        cfg, acc = self.cfg, self.accelerator
        results = {}
        if acc.is_main_process:
            tagger = acc.unwrap_model(self.model)
            for spec in cfg.eval:
                corpus, windows = self.encode(spec, cfg.eval_limit)
                pred, _ = predict_windows(tagger, windows, len(corpus), pad_id=self.tokenizer.pad_token_id)
                results[spec] = span_report(corpus["aspect_tags"], [[ASPECT_TAGS[i] for i in s] for s in pred])
                acc.print(f"{spec}: aspect terms P {results[spec]['precision']:.2f} R {results[spec]['recall']:.2f} "
                          f"F1 {results[spec]['f1']:.2f}")  # fmt: skip
        return results

    def save(self, results: dict) -> None:
        """The tagger, metrics.json, and the end of the run."""
        cfg, acc = self.cfg, self.accelerator
        summary = {f"{spec} f1": round(r["f1"], 2) for spec, r in results.items()}
        extra = {"tag_set": "aspects", "train": cfg.train, "config": cfg.to_dict(), "metrics": summary}
        finish_run(
            cfg, results, accelerator=acc, fit_result=self.result, lr_scale=self.lr_scale, epochs_trained=self.epochs,
            save=lambda out: acc.unwrap_model(self.model).save(out / "model", self.tokenizer, extra),
        )  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    recipe = AspectTermsRecipe(parse_recipe_args(__doc__, AspectTermsConfig, argv))
    recipe.setup()
    if not recipe.train():
        return {}
    results = recipe.evaluate()
    recipe.save(results)
    return results


if __name__ == "__main__":
    run_for_people(main)
