"""Aspect term extraction as BIO tagging: SemEval-2014 restaurants, train -> test, seqeval span F1.

    python recipes/aspect_terms.py --config recipes/configs/aspect_terms_semeval14.yaml
    accelerate launch recipes/aspect_terms.py --config recipes/configs/aspect_terms_semeval14.yaml

The extracted terms are the topic side of the Food lexicon (xdomain_nlp.relational.lexicon):
what diners talk about, which the co-extraction links to the opinion words describing it.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.data import load_corpus
from xdomain_nlp.data.aspects import ASPECT_TAGS
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.tagging import TokenTagger, WordPieceCache, collate_windows, encode_corpus, predict_windows
from xdomain_nlp.training import (
    LengthGroupedBatchSampler,
    parse_recipe_args,
    run_record,
    span_report,
    transfer_param_groups,
    write_json,
)

DEFAULTS = {
    "model": "embedded:multilingual-e5-small",
    "train": "absa:semeval14_restaurants:train",
    "eval": ["absa:semeval14_restaurants:test"],
    "train_limit": 0,
    "eval_limit": 0,
    "output_dir": "runs/aspect_terms",
    "seed": 42,
    "epochs": 3,
    "batch_size": 16,
    "lr": 1.0e-4,
    "head_lr": 2.0e-3,
    "layer_decay": 0.9,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "max_length": 256,
    "window_overlap": 64,
    "mixed_precision": "auto",
}


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, DEFAULTS, argv)
    precision = cfg["mixed_precision"]
    if precision == "auto":
        precision = "bf16" if torch.cuda.is_available() else "no"
    acc = Accelerator(mixed_precision=precision)
    set_seed(cfg["seed"])
    out = Path(cfg["output_dir"])
    tokenizer = load_tokenizer(cfg["model"])
    pieces = WordPieceCache(tokenizer)
    label2id = {t: i for i, t in enumerate(ASPECT_TAGS)}

    def encode(spec: str, limit: int):
        corpus = load_corpus(spec)
        if limit:
            corpus = corpus.select(range(min(limit, len(corpus))))
        windows = encode_corpus(
            corpus, tokenizer, label_column="aspect_tags", label2id=label2id, max_length=cfg["max_length"],
            overlap=cfg["window_overlap"], cache=pieces, source=spec,
        )  # fmt: skip
        return corpus, windows

    # 1. Data and model: a fresh BIO head on the encoder.
    _, train_windows = encode(cfg["train"], cfg["train_limit"])
    sampler = LengthGroupedBatchSampler([len(w.input_ids) for w in train_windows], cfg["batch_size"], seed=cfg["seed"])
    loader = DataLoader(
        train_windows, batch_sampler=sampler, collate_fn=lambda b: collate_windows(b, tokenizer.pad_token_id)
    )
    model = TokenTagger.from_encoder(cfg["model"], ASPECT_TAGS)
    model.source_tag_set = "aspects"
    groups = transfer_param_groups(
        model, lr=cfg["lr"], head_lr=cfg["head_lr"], layer_decay=cfg["layer_decay"], weight_decay=cfg["weight_decay"]
    )
    optimizer = torch.optim.AdamW(groups, lr=cfg["lr"])
    steps = math.ceil(len(sampler)) * cfg["epochs"]
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg["warmup_ratio"] * steps), steps)
    model, optimizer, loader, scheduler = acc.prepare(model, optimizer, loader, scheduler)

    # 2. The loop.
    model.train()
    bar = tqdm(total=len(loader) * cfg["epochs"], disable=not acc.is_local_main_process, desc="train")
    for epoch in range(cfg["epochs"]):
        sampler.set_epoch(epoch)
        loader.set_epoch(epoch)
        for batch in loader:
            logits = model(batch["input_ids"], batch["attention_mask"], batch["word_index"])
            loss = torch.nn.functional.cross_entropy(logits.float(), batch["labels"])
            acc.backward(loss)
            acc.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()

    # 3. Span F1 on each eval set, then save.
    results = {}
    if acc.is_main_process:
        tagger = acc.unwrap_model(model)
        for spec in cfg["eval"]:
            corpus, windows = encode(spec, cfg["eval_limit"])
            pred, _ = predict_windows(tagger, windows, len(corpus), pad_id=tokenizer.pad_token_id, device=acc.device)
            results[spec] = span_report(corpus["aspect_tags"], [[ASPECT_TAGS[i] for i in s] for s in pred])
            acc.print(f"{spec}: aspect terms P {results[spec]['precision']:.2f} R {results[spec]['recall']:.2f} "
                      f"F1 {results[spec]['f1']:.2f}")  # fmt: skip
        summary = {f"{spec} f1": round(r["f1"], 2) for spec, r in results.items()}
        extra = {"tag_set": "aspects", "train": cfg["train"], "config": cfg, "metrics": summary}
        tagger.save(out / "model", tokenizer, extra)
        write_json({"config": cfg, "results": results, "run": run_record()}, out / "metrics.json")
    acc.wait_for_everyone()
    acc.end_training()
    return results


if __name__ == "__main__":
    main()
