"""How fast `load(parser).predict` and `load(sentiment model).predict` run on this machine, and what
they score: the parser on English EWT test word lists (UAS/LAS), the Food -> Movie model on SST-2
test texts (it parses first, with its own parser). Each in fp32 (as the recipes score) and at the
default ``precision="auto"`` (bf16 where the CPU runs it natively), with how many decisions differ.

Each figure is the best of ``--rounds`` timed calls after a warm-up call; the scores are checked
to be the same in every round (prediction is deterministic).

    python benchmarks/parse_speed.py --parser runs/parser_ewt/model \\
        --sentiment runs/sentiment_food_to_movie_seed0/relational/model
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import xdomain_nlp
from xdomain_nlp.data import load_corpus
from xdomain_nlp.relational.metrics import attachment_scores
from xdomain_nlp.training import run_record, write_json

OUT = Path(__file__).parent / "results" / "parse_speed.json"


def best_of(rounds: int, call):
    """The result of ``call()`` (the same every round) and the fastest of ``rounds`` timings."""
    call()  # warm-up: first-use costs (allocations, tokenizer caches) are not the steady rate
    times, results = [], []
    for _ in range(rounds):
        begin = time.perf_counter()
        results.append(call())
        times.append(time.perf_counter() - begin)
    if any(r != results[0] for r in results):
        raise SystemExit("prediction differed between rounds")
    return results[0], min(times), times


def measure(args: argparse.Namespace, precision: str) -> dict:
    """Words/s and UAS/LAS of the parser, sentences/s and accuracy of the sentiment model."""
    model = xdomain_nlp.load(args.parser, device="cpu", precision=precision)
    ewt = load_corpus("ud:en_ewt:test")
    sentences = [list(w) for w in ewt["words"]]
    words = sum(map(len, sentences))
    parsed, seconds, rounds_p = best_of(args.rounds, lambda: model.predict(sentences, progress=False))
    scores = attachment_scores(ewt["heads"], ewt["deprels"], [p["heads"] for p in parsed],
                               [p["relations"] for p in parsed])  # fmt: skip

    classifier = xdomain_nlp.load(args.sentiment, device="cpu", precision=precision)
    sst2 = load_corpus("sentiment:sst2:test")
    texts = list(sst2["text"])
    labels, seconds_s, rounds_s = best_of(
        args.rounds, lambda: [r["label"] for r in classifier.predict(texts, progress=False)]
    )
    right = sum((label == "positive") == (y == 1) for label, y in zip(labels, sst2["label"]))
    return {
        "autocast_dtype": str(model.dtype).removeprefix("torch.") if model.dtype else "float32",
        "parser_words_per_s": round(words / seconds),
        "parser_ewt_test": {k: round(v, 2) for k, v in scores.items()},
        "sentiment_sentences_per_s": round(len(texts) / seconds_s),
        "sentiment_sst2_test": round(100 * right / len(texts), 2),
        "rounds_s": {"parser": [round(t, 2) for t in rounds_p], "sentiment": [round(t, 2) for t in rounds_s]},
        "outputs": {
            "heads": [p["heads"] for p in parsed],
            "relations": [p["relations"] for p in parsed],
            "labels": labels,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parser", required=True, help="a parser folder (recipes/parser_ewt.py)")
    parser.add_argument("--sentiment", required=True, help="a Food -> Movie model folder")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    fp32, auto = measure(args, "fp32"), measure(args, "auto")
    a, b = fp32.pop("outputs"), auto.pop("outputs")
    uas_las = {f"parser_{k}": round(auto["parser_ewt_test"][k] - fp32["parser_ewt_test"][k], 2) for k in ("uas", "las")}
    pairs = [(x, y) for key in ("heads", "relations") for s, t in zip(a[key], b[key]) for x, y in zip(s, t)]
    result = {
        "fp32": fp32,
        "auto": auto,  # the default: bf16 where this CPU runs it natively
        "auto_over_fp32": {
            **{k: round(auto[k] / fp32[k], 2) for k in ("parser_words_per_s", "sentiment_sentences_per_s")},
            "parser_decisions_changed": sum(x != y for x, y in pairs),  # heads and relations, of 2 x words
            "sentiment_labels_changed": sum(x != y for x, y in zip(a["labels"], b["labels"])),
        },
        "auto_minus_fp32": {
            **uas_las,
            "sentiment_sst2_test": round(auto["sentiment_sst2_test"] - fp32["sentiment_sst2_test"], 2),
        },
        "setup": {"words": sum(len(h) for h in a["heads"]), "sentences": len(a["labels"]), "device": "cpu"},
        **run_record(f"python benchmarks/parse_speed.py --parser {args.parser} --sentiment {args.sentiment}"),
    }
    write_json(result, Path(args.out))
    print(json.dumps(result["auto_over_fp32"]))


if __name__ == "__main__":
    main()
