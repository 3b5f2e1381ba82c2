"""Train the biaffine dependency parser on UD English-EWT; score UAS/LAS.

    python recipes/parser_ewt.py --config recipes/configs/parser_ewt.yaml
    accelerate launch recipes/parser_ewt.py --config recipes/configs/parser_ewt.yaml

The parses feed the relational sentiment model (recipes/sentiment_food_to_movie.py), and the
saved directory loads in spaCy as the ``xdomain_parser`` component.
"""

from __future__ import annotations

import torch
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import ParserConfig
from xdomain_nlp.data import load_corpora
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.errors import run_for_people
from xdomain_nlp.relational import BiaffineParser, parse_windows
from xdomain_nlp.relational.biaffine import TreeCollator, group_by_sentence
from xdomain_nlp.relational.metrics import attachment_scores
from xdomain_nlp.tagging import WordPieceCache, encode_corpus
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
    stopped_early,
    train_batches,
    transfer_param_groups,
)


class ParserRecipe:
    """Read the config, build everything in `setup`, run the loop in `train`, then `evaluate` and `save`."""

    def __init__(self, cfg: ParserConfig) -> None:
        self.cfg = cfg
        self.accelerator = make_accelerator(cfg)

    def setup(self) -> None:
        cfg, acc = self.cfg, self.accelerator
        set_seed(cfg.seed)

        # 1. Data: sentences with all their windows, gold heads and relation ids.
        self.tokenizer = load_tokenizer(cfg.model)
        self.pieces = WordPieceCache(self.tokenizer)
        train, grouped = self.encode(cfg.train, cfg.train_limit)
        relations = sorted({r for rels in train["deprels"] for r in rels})
        rel2id = {r: i for i, r in enumerate(relations)}
        items = [(grouped[i], heads, [rel2id[r] for r in rels]) for i, (heads, rels) in enumerate(
            zip(train["heads"], train["deprels"]))]  # fmt: skip
        pieces_per_sentence = [sum(len(w.input_ids) for w in windows) for windows, _, _ in items]
        sampler = train_batches(cfg, acc, pieces_per_sentence, seed=cfg.seed)
        loader = DataLoader(
            items, batch_sampler=sampler, collate_fn=TreeCollator(self.tokenizer.pad_token_id),
            generator=torch.Generator().manual_seed(cfg.seed), **loader_settings(acc),
        )  # fmt: skip

        # 2. Model and optimizer: layer-wise decay on the encoder, a faster rate for the new scorer.
        model = BiaffineParser.from_encoder(
            cfg.model, relations, arc_dim=cfg.arc_dim, rel_dim=cfg.rel_dim, dropout=cfg.dropout
        )
        self.lr_scale = lr_scale(cfg, acc, sampler)  # > 1 for token budgets larger than batch_size sentences
        groups = transfer_param_groups(
            model, lr=cfg.lr * self.lr_scale, head_lr=cfg.head_lr * self.lr_scale, layer_decay=cfg.layer_decay,
            weight_decay=cfg.weight_decay, freeze_embeddings=cfg.freeze_embeddings,
        )  # fmt: skip
        optimizer = make_optimizer(groups, cfg.lr * self.lr_scale, acc, betas=(0.9, 0.9))
        self.epochs = scaled_epochs(cfg.epochs, self.lr_scale)
        steps = scheduler_steps(len(sampler), self.epochs, acc)
        scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)
        self.model, self.optimizer, self.loader, self.scheduler = acc.prepare(model, optimizer, loader, scheduler)

    def encode(self, spec: str | list[str], limit: int = 0):
        """A corpus (its first ``limit`` sentences when set) and its windows, grouped by sentence."""
        corpus = load_corpora(spec, limit)
        windows = encode_corpus(
            corpus, self.tokenizer, label_column=None, label2id=None, max_length=self.cfg.max_length,
            overlap=self.cfg.window_overlap, cache=self.pieces,
            source=spec if isinstance(spec, str) else " + ".join(spec),
        )  # fmt: skip
        return corpus, group_by_sentence(windows)

    def loss(self, model, batch: dict) -> torch.Tensor:
        arcs, rels, mask = model(batch["input_ids"], batch["attention_mask"], batch["word_index"], batch["lengths"])
        return self.accelerator.unwrap_model(model).loss(arcs, rels, mask, batch["heads"], batch["rel_ids"])

    def train(self) -> bool:
        """The shared loop (checkpoints at epoch ends; a killed run resumes where it stopped); False
        when stopped early by ``stop_after_steps``."""
        cfg = self.cfg
        self.result = fit(
            self.model, self.optimizer, self.loader, self.loss, accelerator=self.accelerator,
            scheduler=self.scheduler, epochs=self.epochs, max_grad_norm=cfg.max_grad_norm,
            checkpoints=checkpoint_dir(cfg), checkpoint_every=cfg.checkpoint_every,
            stop_after_steps=cfg.stop_after_steps, count_items=lambda b: sum(b["lengths"]), log_every=cfg.log_every,
        )  # fmt: skip
        return not stopped_early(self.result, self.accelerator)

    def evaluate(self) -> dict:
        """UAS and LAS of each eval corpus, on the main process."""
        cfg, acc = self.cfg, self.accelerator
        results = {}
        if acc.is_main_process:
            parser = acc.unwrap_model(self.model)
            for spec in cfg.eval:
                corpus, by_sentence = self.encode(spec, cfg.eval_limit)
                windows = [w for s in sorted(by_sentence) for w in by_sentence[s]]
                heads, rels = parse_windows(
                    parser, windows, len(corpus), pad_id=self.tokenizer.pad_token_id, max_tokens=cfg.eval_max_tokens,
                )  # fmt: skip
                results[spec] = attachment_scores(corpus["heads"], corpus["deprels"], heads, rels)
                acc.print(f"{spec}: UAS {results[spec]['uas']:.2f} LAS {results[spec]['las']:.2f}")
        return results

    def save(self, results: dict) -> None:
        """The parser, metrics.json, and the end of the run."""
        cfg, acc = self.cfg, self.accelerator
        summary = {f"{spec} {k}": round(r[k], 2) for spec, r in results.items() for k in ("uas", "las")}
        extra = {"train": cfg.train, "config": cfg.to_dict(), "metrics": summary}
        finish_run(
            cfg, results, accelerator=acc, fit_result=self.result, lr_scale=self.lr_scale, epochs_trained=self.epochs,
            train_words_per_s=self.result.items_per_s,
            save=lambda out: acc.unwrap_model(self.model).save(out / "model", self.tokenizer, extra),
        )  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    recipe = ParserRecipe(parse_recipe_args(__doc__, ParserConfig, argv))
    recipe.setup()
    if not recipe.train():
        return {}
    results = recipe.evaluate()
    recipe.save(results)
    return results


if __name__ == "__main__":
    run_for_people(main)
