"""Measure two ways to run the tagger faster than it ships: `torch.compile` and int8 dynamic quantisation.

    python benchmarks/compile_and_int8.py --model runs/pos_en_de/model

Same saved tagger, same process. Inference: words/s and UPOS accuracy of `xdomain_nlp.load(...)
.predict` on German GSD test, as shipped (eager, the package's precision choice), with the model
under ``torch.compile(dynamic=True)`` (its first pass, which compiles, timed apart), and in fp32
with every encoder ``Linear`` quantised to int8 (``torch.ao.quantization.quantize_dynamic``)
beside plain fp32. Training: tokens/s of the package step on EWT sentences, eager and compiled,
fp32 and bf16 autocast (compilation paid in the two untimed warm-up steps and reported apart).
Each timed inference runs twice and keeps the faster pass. Writes
benchmarks/results/compile_and_int8.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import torch
from attention import infer, train_step_rate  # the same timing as the attention benchmark

import xdomain_nlp
from xdomain_nlp.data import load_corpus
from xdomain_nlp.training import run_record

REPO = Path(__file__).resolve().parents[1]


def best_of_two(tagger, corpus) -> dict:
    first, second = infer(tagger, corpus), infer(tagger, corpus)
    best = max(first, second, key=lambda r: r["words_per_s"])
    return {**best, "passes_words_per_s": [first["words_per_s"], second["words_per_s"]]}


def compiled_inference(model_dir: str, corpus) -> dict:
    tagger = xdomain_nlp.load(model_dir, device="cpu")
    tagger.model.compile(dynamic=True)
    start = time.perf_counter()
    first = infer(tagger, corpus)  # compiles (and recompiles for new shapes) on the way
    return {**best_of_two(tagger, corpus), "first_pass_s": round(time.perf_counter() - start, 1),
            "first_pass_words_per_s": first["words_per_s"]}  # fmt: skip


def int8_inference(model_dir: str, corpus) -> dict:
    tagger = xdomain_nlp.load(model_dir, device="cpu", precision="fp32")
    linears = {n for n, m in tagger.model.named_modules() if isinstance(m, torch.nn.Linear) and ".encoder." in n}
    with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
        warnings.simplefilter("ignore")
        tagger.model = torch.ao.quantization.quantize_dynamic(tagger.model, linears, dtype=torch.qint8)
    return {**best_of_two(tagger, corpus), "quantised_linear_layers": len(linears)}


def train_rates(model_dir: str, corpus, compiled: bool, steps: int) -> dict:
    out = {}
    for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        tagger = xdomain_nlp.load(model_dir, device="cpu")
        model = tagger.model
        for p in model.hf.base_model.embeddings.parameters():
            p.requires_grad_(False)  # as the recipe trains: word embeddings frozen
        if compiled:
            model.compile(dynamic=True)
        start = time.perf_counter()
        out[f"train_tokens_per_s_{name}"] = train_step_rate(model, tagger.tokenizer, corpus, dtype, steps)
        out[f"train_wall_s_{name}"] = round(time.perf_counter() - start, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(REPO / "runs/pos_en_de/model"))
    parser.add_argument("--train-sentences", type=int, default=640)
    parser.add_argument("--infer-sentences", type=int, default=0, help="GSD test sentences to tag (0 = all)")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/compile_and_int8.json"))
    args = parser.parse_args()
    gsd = load_corpus("ud:de_gsd:test")
    gsd = gsd.select(range(args.infer_sentences)) if args.infer_sentences else gsd
    ewt = load_corpus("ud:en_ewt:train").select(range(args.train_sentences))
    steps = args.train_sentences // 32

    shipped = xdomain_nlp.load(args.model, device="cpu")
    fp32 = xdomain_nlp.load(args.model, device="cpu", precision="fp32")
    result: dict = {
        "inference": {
            "eager": {**best_of_two(shipped, gsd), "dtype": str(shipped.dtype or torch.float32)},
            "eager_fp32": best_of_two(fp32, gsd),
            "compiled": compiled_inference(args.model, gsd),
            "int8_dynamic": int8_inference(args.model, gsd),
        },
        "training": {
            "eager": train_rates(args.model, ewt, False, steps),
            "compiled": train_rates(args.model, ewt, True, steps),
        },
    }
    inf, tr = result["inference"], result["training"]
    result["compiled_vs_eager"] = {
        "inference_words_per_s": round(inf["compiled"]["words_per_s"] / inf["eager"]["words_per_s"], 2),
        "train": {
            d: round(tr["compiled"][f"train_tokens_per_s_{d}"] / tr["eager"][f"train_tokens_per_s_{d}"], 2)
            for d in ("fp32", "bf16")
        },
    }
    result["int8_vs_fp32"] = {
        "inference_words_per_s": round(inf["int8_dynamic"]["words_per_s"] / inf["eager_fp32"]["words_per_s"], 2),
        "accuracy_diff": round(inf["int8_dynamic"]["accuracy"] - inf["eager_fp32"]["accuracy"], 2),
    }
    result["int8_vs_shipped_words_per_s"] = round(inf["int8_dynamic"]["words_per_s"] / inf["eager"]["words_per_s"], 2)
    result |= run_record("python benchmarks/compile_and_int8.py " + " ".join(sys.argv[1:]))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("inference", "compiled_vs_eager", "int8_vs_fp32")}, indent=2))


if __name__ == "__main__":
    main()
