"""Benchmark the main job: zero-shot EN->DE UPOS accuracy, and speed against a plain loop.

    python benchmarks/pos_en_de.py                       # full run (trains with the recipe config)
    python benchmarks/pos_en_de.py --run-dir runs/x      # reuse a finished recipe run's metrics

Writes benchmarks/results/pos_en_de.json. The "plain" loop is what a transformers example
does: every parameter trained, sentences in file order, each batch padded to its longest
member, logits on every subword; the package's loop is measured on the same model, the same
sentences and the same batch size, in the same process, one after the other.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import runpy
import sys
import time
from pathlib import Path

import torch
from transformers import AutoModelForTokenClassification

from xdomain_nlp.configs import POSTransferConfig
from xdomain_nlp.data import load_corpora, load_corpus
from xdomain_nlp.encoders import load_tokenizer, resolve_model
from xdomain_nlp.outputs import resolved_paths
from xdomain_nlp.tagging import (
    UPOS,
    TokenTagger,
    WordPieceCache,
    collate_windows,
    encode_corpus,
    predict_windows,
)
from xdomain_nlp.training import (
    LengthGroupedBatchSampler,
    inference_dtype,
    load_config,
    run_record,
    transfer_param_groups,
)

REPO = Path(__file__).resolve().parents[1]
run_recipe = runpy.run_path(str(REPO / "recipes/pos_en_de.py"), run_name="recipe")["main"]

LABEL2ID = {t: i for i, t in enumerate(UPOS)}


def plain_batches(tokenizer, corpus, batch_size: int):
    """File order, pad to longest, label on first subwords (-100 elsewhere), as run_ner does."""
    for i in range(0, len(corpus), batch_size):
        rows = corpus[i : i + batch_size]
        enc = tokenizer(
            rows["words"],
            is_split_into_words=True,
            padding="longest",
            truncation=True,
            max_length=512,
            return_tensors="pt",
        )
        labels = torch.full(enc["input_ids"].shape, -100)
        for b, tags in enumerate(rows["upos"]):
            previous = None
            for t, word in enumerate(enc.word_ids(b)):
                if word is not None and word != previous:
                    labels[b, t] = LABEL2ID[tags[word]]
                previous = word
        yield enc, labels


def time_plain_training(model_name, tokenizer, corpus, batch_size, lr) -> dict:
    model = AutoModelForTokenClassification.from_pretrained(model_name, num_labels=len(UPOS))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    batches = list(plain_batches(tokenizer, corpus, batch_size))
    tokens, start = 0, None
    for k, (enc, labels) in enumerate(batches):
        if k == 2:  # the first steps pay one-off allocation costs
            start, tokens = time.perf_counter(), 0
        loss = model(**enc, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tokens += int(enc["attention_mask"].sum())
    seconds = time.perf_counter() - start
    return {"tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}


def package_model_and_optimizer(model_name, cfg):
    model = TokenTagger.from_encoder(model_name, list(UPOS))
    model.train()
    groups = transfer_param_groups(
        model,
        lr=cfg["lr"],
        head_lr=cfg["head_lr"],
        layer_decay=cfg["layer_decay"],
        freeze_embeddings=cfg["freeze_embeddings"],
        freeze_layers=cfg["freeze_layers"],
    )
    return model, torch.optim.AdamW(groups, lr=cfg["lr"])


def time_package_training(model_name, tokenizer, corpus, cfg, autocast_dtype=None) -> dict:
    """The package's model, batching and first-subword scoring (``autocast_dtype``: bf16 autocast)."""
    model, optimizer = package_model_and_optimizer(model_name, cfg)
    amp = torch.autocast("cpu", dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
    windows = encode_corpus(
        corpus,
        tokenizer,
        label_column="upos",
        label2id=LABEL2ID,
        max_length=cfg["max_length"],
        overlap=cfg["window_overlap"],
    )
    sampler = LengthGroupedBatchSampler([len(w.input_ids) for w in windows], cfg["batch_size"], seed=cfg["seed"])
    batches = [collate_windows([windows[i] for i in b], tokenizer.pad_token_id) for b in sampler]
    tokens, start = 0, None
    for k, batch in enumerate(batches):
        if k == 2:
            start, tokens = time.perf_counter(), 0
        with amp:
            logits = model(batch["input_ids"], batch["attention_mask"], batch["word_index"])
        loss = torch.nn.functional.cross_entropy(logits.float(), batch["labels"])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tokens += int(batch["attention_mask"].sum())
    seconds = time.perf_counter() - start
    return {"tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}


def time_ceiling_training(model_name, tokenizer, corpus, cfg, steps: int) -> dict:
    """The bare step on the same model and tokens, unpadded: the corpus's subwords as one stream cut
    into full [batch, length] blocks (length = the mean window), every position scored, no loader and
    no bookkeeping. What the hardware gives this model; the package's loop is measured against it."""
    model, optimizer = package_model_and_optimizer(model_name, cfg)
    windows = encode_corpus(corpus, tokenizer, label_column="upos", label2id=LABEL2ID, max_length=cfg["max_length"])
    stream = torch.tensor([t for w in windows for t in w.input_ids])
    length = round(sum(len(w.input_ids) for w in windows) / len(windows))
    per_step = cfg["batch_size"] * length
    blocks = stream[: (len(stream) // per_step) * per_step].view(-1, cfg["batch_size"], length)
    labels = torch.randint(len(UPOS), (cfg["batch_size"] * length,))
    word_index = torch.arange(per_step)  # every position of the flat [batch x length] block
    mask = torch.ones(cfg["batch_size"], length, dtype=torch.long)
    if len(blocks) < 3:
        raise ValueError(f"{len(blocks)} blocks of {per_step} tokens: time more sentences (--speed-sentences)")
    tokens, start = 0, None
    for k in range(min(steps + 2, len(blocks))):
        if k == 2:
            start, tokens = time.perf_counter(), 0
        logits = model(blocks[k], mask, word_index)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tokens += per_step
    seconds = time.perf_counter() - start
    return {
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / seconds,
        "block": [cfg["batch_size"], length],
    }


def gemm_gflops(dtype: torch.dtype, n: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of an n x n matrix product in ``dtype`` on this CPU (after one warm-up)."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def cpu_flags() -> dict:
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        flags = set()
    return {flag: flag in flags for flag in ("avx512_bf16", "amx_bf16", "amx_tile", "avx512f")}


@torch.no_grad()
def time_plain_inference(model_dir, tokenizer, corpus, batch_size) -> dict:
    model = AutoModelForTokenClassification.from_pretrained(model_dir).eval()
    start, words, correct = time.perf_counter(), 0, 0
    for enc, labels in plain_batches(tokenizer, corpus, batch_size):
        pred = model(**enc).logits.argmax(-1)
        mask = labels != -100
        words += int(mask.sum())
        correct += int((pred[mask] == labels[mask]).sum())
    seconds = time.perf_counter() - start
    return {"words": words, "seconds": seconds, "words_per_s": words / seconds, "accuracy": 100 * correct / words}


def time_package_inference(model_dir, tokenizer, corpus, cfg) -> dict:
    from xdomain_nlp.tagging import load_tagger

    model, _, _ = load_tagger(model_dir)
    start = time.perf_counter()
    windows = encode_corpus(
        corpus,
        tokenizer,
        label_column=None,
        label2id=LABEL2ID,
        max_length=cfg["max_length"],
        overlap=cfg["window_overlap"],
        cache=WordPieceCache(tokenizer),
    )
    dtype = inference_dtype("cpu", cfg["infer_precision"])
    pred, _ = predict_windows(
        model,
        windows,
        len(corpus),
        pad_id=tokenizer.pad_token_id,
        max_tokens=cfg["eval_max_tokens"],
        autocast_dtype=dtype,
    )
    seconds = time.perf_counter() - start
    gold = [LABEL2ID[t] for tags in corpus["upos"] for t in tags]
    flat = [p for row in pred for p in row]
    correct = sum(g == p for g, p in zip(gold, flat))
    return {
        "words": len(flat),
        "seconds": seconds,
        "words_per_s": len(flat) / seconds,
        "accuracy": 100 * correct / len(flat),
    }


def fp32_comparison(run_dir: str | None, metrics: dict) -> dict:
    """This run's accuracies against an fp32 run of the same config (the bf16 training check)."""
    if not run_dir:
        return {}
    fp32 = json.loads((Path(run_dir) / "metrics.json").read_text())
    if fp32.get("setup", {}).get("mixed_precision") != "no":
        raise ValueError(f"{run_dir}: not an fp32 run (mixed_precision {fp32.get('setup', {}).get('mixed_precision')})")

    def scores(m: dict) -> dict:
        out = {f"{spec} source": r["accuracy"] for spec, r in m["results"].items()}
        convention = (m.get("convention") or {}).get("results", {})
        out |= {f"{spec} convention": r["accuracy"] for spec, r in convention.items()}
        return out

    ours, theirs = scores(metrics), scores(fp32)
    return {
        "fp32_run": {
            "run_dir": run_dir,
            "train_words_per_s": fp32.get("train_words_per_s"),
            "accuracy_minus_fp32": {k: round(ours[k] - theirs[k], 2) for k in ours if k in theirs},
        },
        "train_words_per_s_ratio_vs_fp32_run": round(metrics["train_words_per_s"] / fp32["train_words_per_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(REPO / "recipes/configs/pos_en_de.yaml"))
    parser.add_argument(
        "--run-dir",
        default=str(REPO / "runs/benchmark_pos_en_de"),
        help="recipe output dir; a finished run there is reused, not retrained",
    )
    parser.add_argument(
        "--fp32-run-dir", help="a finished fp32 run of the same config: its accuracies are written beside this run's"
    )
    parser.add_argument("--speed-sentences", type=int, default=960, help="EWT train sentences timed per loop")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/pos_en_de.json"))
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    run_dir = Path(args.run_dir)
    cfg = load_config(POSTransferConfig, args.config, [*args.overrides, f"output_dir={run_dir}"]).to_dict()
    if not (run_dir / "metrics.json").is_file():
        run_recipe(["--config", args.config, *args.overrides, f"output_dir={run_dir}"])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    cfg = {**cfg, **resolved_paths(metrics["config"], run_dir)}  # a reused run: the config it actually ran with
    accuracy = {spec: r["accuracy"] for spec, r in metrics["results"].items()}
    convention = metrics.get("convention") or {"results": {}}
    german = {spec: r["accuracy"] for spec, r in convention["results"].items()}  # German under German conventions

    model_name = resolve_model(cfg["model"])
    tokenizer = load_tokenizer(model_name)
    train = load_corpora(cfg["train"]).select(range(args.speed_sentences))
    torch.manual_seed(cfg["seed"])
    plain_train = time_plain_training(model_name, tokenizer, train, cfg["batch_size"], cfg["lr"])
    torch.manual_seed(cfg["seed"])
    ours_train = time_package_training(model_name, tokenizer, train, cfg)
    torch.manual_seed(cfg["seed"])
    ours_train_bf16 = time_package_training(model_name, tokenizer, train, cfg, autocast_dtype=torch.bfloat16)
    torch.manual_seed(cfg["seed"])
    ceiling = time_ceiling_training(model_name, tokenizer, train, cfg, steps=len(train) // cfg["batch_size"])
    gemm = {"fp32": round(gemm_gflops(torch.float32), 1), "bf16": round(gemm_gflops(torch.bfloat16), 1)}
    test = load_corpus("ud:de_gsd:test")
    plain_infer = time_plain_inference(run_dir / "model", tokenizer, test, cfg["batch_size"])
    ours_infer = time_package_inference(run_dir / "model", tokenizer, test, cfg)

    result = {
        "de_gsd_test_upos": round(german.get("ud:de_gsd:test", accuracy.get("ud:de_gsd:test", float("nan"))), 2),
        "de_gsd_dev_upos": round(german.get("ud:de_gsd:dev", accuracy.get("ud:de_gsd:dev", float("nan"))), 2),
        "de_gsd_test_upos_source_conventions": round(accuracy.get("ud:de_gsd:test", float("nan")), 2),
        "de_gsd_dev_upos_source_conventions": round(accuracy.get("ud:de_gsd:dev", float("nan")), 2),
        "convention": {k: v for k, v in convention.items() if k != "results"},
        "en_ewt_test_upos": round(accuracy.get("ud:en_ewt:test", float("nan")), 2),
        "en_pud_test_upos": round(accuracy.get("ud:en_pud:test", float("nan")), 2),
        "train_tokens_per_s_ratio_vs_plain": round(ours_train["tokens_per_s"] / plain_train["tokens_per_s"], 2),
        "infer_words_per_s_ratio_vs_plain": round(ours_infer["words_per_s"] / plain_infer["words_per_s"], 2),
        "train_tokens_per_s_ratio_vs_ceiling": round(ours_train["tokens_per_s"] / ceiling["tokens_per_s"], 2),
        "train_bf16_tokens_per_s_ratio_vs_fp32": round(ours_train_bf16["tokens_per_s"] / ours_train["tokens_per_s"], 2),
        "train_tokens_per_s": {
            "package": round(ours_train["tokens_per_s"], 1),
            "package_bf16_autocast": round(ours_train_bf16["tokens_per_s"], 1),
            "ceiling_unpadded_bare_step": round(ceiling["tokens_per_s"], 1),
            "plain": round(plain_train["tokens_per_s"], 1),
        },
        "ceiling_block": ceiling["block"],
        "gemm_2048_gflops": gemm,
        "cpu_flags": cpu_flags(),
        "infer_words_per_s": {
            "package": round(ours_infer["words_per_s"], 1),
            "plain": round(plain_infer["words_per_s"], 1),
        },
        "infer_accuracy_de_gsd_test": {
            "package": round(ours_infer["accuracy"], 2),
            "plain": round(plain_infer["accuracy"], 2),
        },
        "package_infer_dtype": str(inference_dtype("cpu", cfg["infer_precision"]) or torch.float32),
        "speed_setup": {
            "train_sentences": args.speed_sentences,
            "batch_size": cfg["batch_size"],
            "infer_corpus": "ud:de_gsd:test",
            "timed_from_step": 2,
        },
        "training": {
            "epochs": cfg["epochs"],
            "train_words_per_s": metrics.get("train_words_per_s"),
            "history": metrics.get("history", []),
        },
        "config": cfg,
        "training_precision": metrics.get("setup", {}).get("mixed_precision"),
        **fp32_comparison(args.fp32_run_dir, metrics),
        **run_record("python benchmarks/pos_en_de.py " + " ".join(sys.argv[1:])),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}, indent=2))


if __name__ == "__main__":
    main()
