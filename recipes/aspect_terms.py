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


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, AspectTermsConfig, argv)
    acc = make_accelerator(cfg)
    set_seed(cfg.seed)
    tokenizer = load_tokenizer(cfg.model)
    pieces = WordPieceCache(tokenizer)
    label2id = {t: i for i, t in enumerate(ASPECT_TAGS)}

    def encode(spec: str | list[str], limit: int):
        corpus = load_corpora(spec)
        if limit:
            corpus = corpus.select(range(min(limit, len(corpus))))
        windows = encode_corpus(
            corpus, tokenizer, label_column="aspect_tags", label2id=label2id, max_length=cfg.max_length,
            overlap=cfg.window_overlap, cache=pieces, source=" + ".join([spec] if isinstance(spec, str) else spec),
        )  # fmt: skip
        return corpus, windows

    # 1. Data and model: a fresh BIO head on the encoder.
    _, train_windows = encode(cfg.train, cfg.train_limit)
    sampler = train_batches(cfg, acc, [len(w.input_ids) for w in train_windows], seed=cfg.seed)
    loader = DataLoader(
        train_windows, batch_sampler=sampler, collate_fn=WindowCollator(tokenizer.pad_token_id),
        generator=torch.Generator().manual_seed(cfg.seed), **loader_settings(acc),
    )  # fmt: skip
    model = TokenTagger.from_encoder(cfg.model, ASPECT_TAGS)
    model.source_tag_set = "aspects"
    scale = lr_scale(cfg, acc, sampler)  # > 1 for token budgets larger than batch_size sentences
    groups = transfer_param_groups(
        model, lr=cfg.lr * scale, head_lr=cfg.head_lr * scale, layer_decay=cfg.layer_decay,
        weight_decay=cfg.weight_decay,
    )  # fmt: skip
    optimizer = make_optimizer(groups, cfg.lr * scale, acc)
    epochs = scaled_epochs(cfg.epochs, scale)
    steps = scheduler_steps(len(sampler), epochs, acc)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)
    model, optimizer, loader, scheduler = acc.prepare(model, optimizer, loader, scheduler)

    # 2. The shared loop.
    def loss(model, batch):
        logits = model(batch["input_ids"], batch["attention_mask"], batch["word_index"])
        return weighted_cross_entropy(logits, batch["labels"])

    result = fit(
        model, optimizer, loader, loss, accelerator=acc, scheduler=scheduler, epochs=epochs,
        max_grad_norm=cfg.max_grad_norm, checkpoints=checkpoint_dir(cfg), checkpoint_every=cfg.checkpoint_every,
        stop_after_steps=cfg.stop_after_steps, log_every=cfg.log_every,
    )  # fmt: skip
    if stopped_early(result, acc):
        return {}

    # 3. Span F1 on each eval set, then save.
    results = {}
    if acc.is_main_process:
        tagger = acc.unwrap_model(model)
        for spec in cfg.eval:
            corpus, windows = encode(spec, cfg.eval_limit)
            pred, _ = predict_windows(tagger, windows, len(corpus), pad_id=tokenizer.pad_token_id)
            results[spec] = span_report(corpus["aspect_tags"], [[ASPECT_TAGS[i] for i in s] for s in pred])
            acc.print(f"{spec}: aspect terms P {results[spec]['precision']:.2f} R {results[spec]['recall']:.2f} "
                      f"F1 {results[spec]['f1']:.2f}")  # fmt: skip
        summary = {f"{spec} f1": round(r["f1"], 2) for spec, r in results.items()}
        extra = {"tag_set": "aspects", "train": cfg.train, "config": cfg.to_dict(), "metrics": summary}
    finish_run(
        cfg, results, accelerator=acc, fit_result=result, lr_scale=scale, epochs_trained=epochs,
        save=lambda out: acc.unwrap_model(model).save(out / "model", tokenizer, extra),
    )  # fmt: skip
    return results


if __name__ == "__main__":
    run_for_people(main)
