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


def encode(spec: str | list[str], limit: int, tokenizer, pieces: WordPieceCache, cfg: ParserConfig):
    corpus = load_corpora(spec)
    if limit:
        corpus = corpus.select(range(min(limit, len(corpus))))
    windows = encode_corpus(
        corpus, tokenizer, label_column=None, label2id=None, max_length=cfg.max_length,
        overlap=cfg.window_overlap, cache=pieces, source=spec if isinstance(spec, str) else " + ".join(spec),
    )  # fmt: skip
    return corpus, group_by_sentence(windows)


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, ParserConfig, argv)
    acc = make_accelerator(cfg)
    set_seed(cfg.seed)

    # 1. Data: sentences with all their windows, gold heads and relation ids.
    tokenizer = load_tokenizer(cfg.model)
    pieces = WordPieceCache(tokenizer)
    train, grouped = encode(cfg.train, cfg.train_limit, tokenizer, pieces, cfg)
    relations = sorted({r for rels in train["deprels"] for r in rels})
    rel2id = {r: i for i, r in enumerate(relations)}
    items = [(grouped[i], heads, [rel2id[r] for r in rels]) for i, (heads, rels) in enumerate(
        zip(train["heads"], train["deprels"]))]  # fmt: skip

    pieces_per_sentence = [sum(len(w.input_ids) for w in windows) for windows, _, _ in items]
    sampler = train_batches(cfg, acc, pieces_per_sentence, seed=cfg.seed)
    loader = DataLoader(
        items, batch_sampler=sampler, collate_fn=TreeCollator(tokenizer.pad_token_id),
        generator=torch.Generator().manual_seed(cfg.seed), **loader_settings(acc),
    )  # fmt: skip

    # 2. Model and optimizer: layer-wise decay on the encoder, a faster rate for the new scorer.
    model = BiaffineParser.from_encoder(
        cfg.model, relations, arc_dim=cfg.arc_dim, rel_dim=cfg.rel_dim, dropout=cfg.dropout
    )
    scale = lr_scale(cfg, acc, sampler)  # > 1 for token budgets larger than batch_size sentences
    groups = transfer_param_groups(
        model, lr=cfg.lr * scale, head_lr=cfg.head_lr * scale, layer_decay=cfg.layer_decay,
        weight_decay=cfg.weight_decay, freeze_embeddings=cfg.freeze_embeddings,
    )  # fmt: skip
    optimizer = make_optimizer(groups, cfg.lr * scale, acc, betas=(0.9, 0.9))
    epochs = scaled_epochs(cfg.epochs, scale)
    steps = scheduler_steps(len(sampler), epochs, acc)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)
    model, optimizer, loader, scheduler = acc.prepare(model, optimizer, loader, scheduler)

    # 3. The shared loop (checkpoints at epoch ends; a killed run resumes where it stopped).
    def loss(model, batch):
        arcs, rels, mask = model(batch["input_ids"], batch["attention_mask"], batch["word_index"], batch["lengths"])
        return acc.unwrap_model(model).loss(arcs, rels, mask, batch["heads"], batch["rel_ids"])

    result = fit(
        model, optimizer, loader, loss, accelerator=acc, scheduler=scheduler, epochs=epochs,
        max_grad_norm=cfg.max_grad_norm, checkpoints=checkpoint_dir(cfg), checkpoint_every=cfg.checkpoint_every,
        stop_after_steps=cfg.stop_after_steps, count_items=lambda b: sum(b["lengths"]), log_every=cfg.log_every,
    )  # fmt: skip
    if stopped_early(result, acc):
        return {}

    # 4. Evaluate (main process) and save.
    results = {}
    if acc.is_main_process:
        parser = acc.unwrap_model(model)
        for spec in cfg.eval:
            corpus, by_sentence = encode(spec, cfg.eval_limit, tokenizer, pieces, cfg)
            windows = [w for s in sorted(by_sentence) for w in by_sentence[s]]
            heads, rels = parse_windows(
                parser, windows, len(corpus), pad_id=tokenizer.pad_token_id, max_tokens=cfg.eval_max_tokens,
            )  # fmt: skip
            results[spec] = attachment_scores(corpus["heads"], corpus["deprels"], heads, rels)
            acc.print(f"{spec}: UAS {results[spec]['uas']:.2f} LAS {results[spec]['las']:.2f}")
        summary = {f"{spec} {k}": round(r[k], 2) for spec, r in results.items() for k in ("uas", "las")}
        extra = {"train": cfg.train, "config": cfg.to_dict(), "metrics": summary}
    finish_run(
        cfg, results, accelerator=acc, fit_result=result, lr_scale=scale, epochs_trained=epochs,
        train_words_per_s=result.items_per_s,
        save=lambda out: acc.unwrap_model(model).save(out / "model", tokenizer, extra),
    )  # fmt: skip
    return results


if __name__ == "__main__":
    run_for_people(main)
