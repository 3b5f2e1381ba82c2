"""What the package's training loop costs on top of the bare step, on this machine's CPU.

The same model (the embedded encoder cut to ``--layers`` layers, with a UPOS head), the same EWT
batches (the main job's sampler, ``batch_size`` sentences) and the same optimizer are trained
two ways, alternately, ``--rounds`` times each:

* bare: batches collated beforehand, then forward, loss, backward, AdamW step, zero_grad;
* package: `fit` under an ``Accelerator`` with the main job's loader (collation in the loop),
  scheduler, clipping, checkpoint-free accounting and progress bar.

``loop_overhead_ratio`` = package seconds per step / bare seconds per step, each the fastest of its
rounds (the machine's noise only ever adds time; the medians are recorded too).

    python benchmarks/loop_overhead.py            # writes benchmarks/results/loop_overhead.json
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.data import load_corpus
from xdomain_nlp.devices import inference_dtype
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.tagging import UPOS, TokenTagger, WindowCollator, encode_corpus
from xdomain_nlp.training import (
    LengthGroupedBatchSampler,
    fit,
    run_record,
    transfer_param_groups,
    weighted_cross_entropy,
    write_json,
)

OUT = Path(__file__).parent / "results" / "loop_overhead.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="embedded:multilingual-e5-small")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--sentences", type=int, default=640)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    tokenizer = load_tokenizer(args.model)
    corpus = load_corpus("ud:en_ewt:train").select(range(args.sentences))
    windows = encode_corpus(
        corpus, tokenizer, label_column="upos", label2id={t: i for i, t in enumerate(UPOS)}, max_length=256
    )
    collate = WindowCollator(tokenizer.pad_token_id)
    sampler = LengthGroupedBatchSampler([len(w.input_ids) for w in windows], args.batch_size, seed=42)
    dtype = inference_dtype("cpu")  # bf16 where this CPU runs it natively, as the main job trains
    precision = "bf16" if dtype == torch.bfloat16 else "no"

    def model_and_optimizer():
        torch.manual_seed(0)
        model = TokenTagger.from_encoder(args.model, list(UPOS), num_layers=args.layers)
        groups = transfer_param_groups(model, lr=1e-4, head_lr=3e-3, layer_decay=0.9)
        return model, torch.optim.AdamW(groups, lr=1e-4)

    def loss(model, batch):
        return weighted_cross_entropy(model(batch["input_ids"], batch["attention_mask"], batch["word_index"]),
                                      batch["labels"])  # fmt: skip

    def bare() -> float:
        model, optimizer = model_and_optimizer()
        model.train()
        batches = [collate([windows[i] for i in b]) for b in sampler.batches()]
        start = time.perf_counter()
        for batch in batches:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype is not None):
                logits = model(batch["input_ids"], batch["attention_mask"], batch["word_index"])
            weighted_cross_entropy(logits.float(), batch["labels"]).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return (time.perf_counter() - start) / len(batches)

    def package() -> float:
        accelerator = Accelerator(cpu=True, mixed_precision=precision)
        model, optimizer = model_and_optimizer()
        loader = DataLoader(windows, batch_sampler=sampler, collate_fn=collate)
        scheduler = get_linear_schedule_with_warmup(optimizer, 1, len(sampler))
        model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
        result = fit(model, optimizer, loader, loss, accelerator=accelerator, scheduler=scheduler, max_grad_norm=1.0)
        return result.train_seconds / result.state.step

    bare()  # warm-up: the first pass pays for allocations and kernel choice
    times = {"bare": [], "package": []}
    for _ in range(args.rounds):
        times["bare"].append(bare())
        times["package"].append(package())
    median = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    result = {
        "loop_overhead_ratio": round(best["package"] / best["bare"], 3),
        "median_ratio": round(median["package"] / median["bare"], 3),
        "seconds_per_step": {k: round(v, 4) for k, v in best.items()},
        "rounds": {k: [round(x, 4) for x in v] for k, v in times.items()},
        "setup": {"model": args.model, "layers": args.layers, "sentences": args.sentences,
                  "batch_size": args.batch_size, "steps_per_round": len(sampler), "mixed_precision": precision},
        **run_record("python benchmarks/loop_overhead.py"),
    }  # fmt: skip
    write_json(result, Path(args.out))
    print(result["loop_overhead_ratio"], result["seconds_per_step"])


if __name__ == "__main__":
    main()
