"""Train the biaffine dependency parser on UD English-EWT; score UAS/LAS.

    python recipes/parser_ewt.py --config recipes/configs/parser_ewt.yaml
    accelerate launch recipes/parser_ewt.py --config recipes/configs/parser_ewt.yaml

The parses feed the relational sentiment model (recipes/sentiment_food_to_movie.py), and the
saved directory loads in spaCy as the ``xdomain_parser`` component.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.data import load_corpus
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.relational import BiaffineParser, parse_windows
from xdomain_nlp.relational.metrics import attachment_scores
from xdomain_nlp.relational.parser import collate_sentences, group_by_sentence
from xdomain_nlp.tagging import WordPieceCache, encode_corpus
from xdomain_nlp.training import (
    LengthGroupedBatchSampler,
    parse_recipe_args,
    run_record,
    transfer_param_groups,
    write_json,
)

DEFAULTS = {
    "model": "embedded:multilingual-e5-small",
    "train": "ud:en_ewt:train",
    "train_limit": 0,  # first N training sentences (0 = all); for smoke runs
    "eval": ["ud:en_ewt:dev", "ud:en_ewt:test"],
    "eval_limit": 0,
    "output_dir": "runs/parser_ewt",
    "seed": 42,
    "epochs": 2,
    "batch_size": 32,  # sentences per step per process
    "lr": 1.0e-4,
    "head_lr": 2.0e-3,
    "layer_decay": 0.9,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "max_grad_norm": 5.0,
    "freeze_embeddings": True,
    "arc_dim": 384,
    "rel_dim": 128,
    "dropout": 0.2,
    "max_length": 256,  # subwords per window; longer sentences are parsed from overlapping windows
    "window_overlap": 64,
    "mixed_precision": "auto",
    "eval_max_tokens": 16384,
}


def encode(spec: str, limit: int, tokenizer, pieces: WordPieceCache, cfg: dict):
    corpus = load_corpus(spec)
    if limit:
        corpus = corpus.select(range(min(limit, len(corpus))))
    windows = encode_corpus(
        corpus, tokenizer, label_column=None, label2id=None, max_length=cfg["max_length"],
        overlap=cfg["window_overlap"], cache=pieces, source=spec,
    )  # fmt: skip
    return corpus, group_by_sentence(windows)


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, DEFAULTS, argv)
    precision = cfg["mixed_precision"]
    if precision == "auto":
        precision = "bf16" if torch.cuda.is_available() else "no"
    acc = Accelerator(mixed_precision=precision)
    set_seed(cfg["seed"])
    out = Path(cfg["output_dir"])

    # 1. Data: sentences with all their windows, gold heads and relation ids.
    tokenizer = load_tokenizer(cfg["model"])
    pieces = WordPieceCache(tokenizer)
    train, grouped = encode(cfg["train"], cfg["train_limit"], tokenizer, pieces, cfg)
    relations = sorted({r for rels in train["deprels"] for r in rels})
    rel2id = {r: i for i, r in enumerate(relations)}
    items = [(grouped[i], heads, [rel2id[r] for r in rels]) for i, (heads, rels) in enumerate(
        zip(train["heads"], train["deprels"]))]  # fmt: skip

    def collate(batch):
        tensors = collate_sentences([windows for windows, _, _ in batch], tokenizer.pad_token_id)
        longest = max(tensors["lengths"]) + 1
        heads = torch.zeros(len(batch), longest, dtype=torch.long)
        rel_ids = torch.zeros(len(batch), longest, dtype=torch.long)
        for b, (_, h, r) in enumerate(batch):
            heads[b, 1 : len(h) + 1] = torch.tensor(h)
            rel_ids[b, 1 : len(r) + 1] = torch.tensor(r)
        return {**tensors, "heads": heads, "rel_ids": rel_ids}

    sampler = LengthGroupedBatchSampler(
        [sum(len(w.input_ids) for w in windows) for windows, _, _ in items], cfg["batch_size"], seed=cfg["seed"]
    )
    loader = DataLoader(items, batch_sampler=sampler, collate_fn=collate)

    # 2. Model and optimizer: layer-wise decay on the encoder, a faster rate for the new scorer.
    model = BiaffineParser.from_encoder(
        cfg["model"], relations, arc_dim=cfg["arc_dim"], rel_dim=cfg["rel_dim"], dropout=cfg["dropout"]
    )
    groups = transfer_param_groups(
        model, lr=cfg["lr"], head_lr=cfg["head_lr"], layer_decay=cfg["layer_decay"],
        weight_decay=cfg["weight_decay"], freeze_embeddings=cfg["freeze_embeddings"],
    )  # fmt: skip
    optimizer = torch.optim.AdamW(groups, lr=cfg["lr"], betas=(0.9, 0.9))
    steps = len(sampler) * cfg["epochs"]
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg["warmup_ratio"] * steps), steps)
    model, optimizer, loader, scheduler = acc.prepare(model, optimizer, loader, scheduler)

    # 3. The loop.
    started = time.perf_counter()
    bar = tqdm(total=len(loader) * cfg["epochs"], disable=not acc.is_local_main_process, desc="train")
    model.train()
    for epoch in range(cfg["epochs"]):
        sampler.set_epoch(epoch)
        loader.set_epoch(epoch)
        for batch in loader:
            arcs, rels, mask = model(batch["input_ids"], batch["attention_mask"], batch["word_index"], batch["lengths"])
            loss = acc.unwrap_model(model).loss(arcs, rels, mask, batch["heads"], batch["rel_ids"])
            acc.backward(loss)
            acc.clip_grad_norm_(model.parameters(), cfg["max_grad_norm"])
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    train_seconds = time.perf_counter() - started

    # 4. Evaluate (main process) and save.
    results = {}
    if acc.is_main_process:
        parser = acc.unwrap_model(model)
        for spec in cfg["eval"]:
            corpus, by_sentence = encode(spec, cfg["eval_limit"], tokenizer, pieces, cfg)
            windows = [w for s in sorted(by_sentence) for w in by_sentence[s]]
            heads, rels = parse_windows(
                parser, windows, len(corpus), pad_id=tokenizer.pad_token_id, max_tokens=cfg["eval_max_tokens"],
                device=acc.device,
            )  # fmt: skip
            results[spec] = attachment_scores(corpus["heads"], corpus["deprels"], heads, rels)
            acc.print(f"{spec}: UAS {results[spec]['uas']:.2f} LAS {results[spec]['las']:.2f}")
        summary = {f"{spec} {k}": round(r[k], 2) for spec, r in results.items() for k in ("uas", "las")}
        parser.save(out / "model", tokenizer, {"train": cfg["train"], "config": cfg, "metrics": summary})
        write_json(
            {"config": cfg, "results": results, "run": run_record(), "train_seconds": train_seconds},
            out / "metrics.json",
        )
    acc.wait_for_everyone()
    acc.end_training()
    return results


if __name__ == "__main__":
    main()
