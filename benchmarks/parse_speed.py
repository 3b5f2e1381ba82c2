"""How fast `load(parser).predict` and `load(sentiment model).predict` run on this machine, and what
they score: the parser on English EWT test word lists (UAS/LAS), the Food -> Movie model on SST-2
test texts (it parses first, with its own parser).

Each figure is the best of ``--rounds`` timed calls after a warm-up call; the scores are checked
to be the same in every round (prediction is deterministic).

    python benchmarks/parse_speed.py --parser runs/parser_ewt/model \\
        --sentiment runs/sentiment_food_to_movie_seed0/relational/model
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parser", required=True, help="a parser folder (recipes/parser_ewt.py)")
    parser.add_argument("--sentiment", required=True, help="a Food -> Movie model folder")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    model = xdomain_nlp.load(args.parser, device="cpu")
    ewt = load_corpus("ud:en_ewt:test")
    sentences = [list(w) for w in ewt["words"]]
    words = sum(map(len, sentences))
    parsed, seconds, rounds_p = best_of(args.rounds, lambda: model.predict(sentences, progress=False))
    scores = attachment_scores(ewt["heads"], ewt["deprels"], [p["heads"] for p in parsed],
                               [p["relations"] for p in parsed])  # fmt: skip

    classifier = xdomain_nlp.load(args.sentiment, device="cpu")
    sst2 = load_corpus("sentiment:sst2:test")
    texts = list(sst2["text"])
    labels, seconds_s, rounds_s = best_of(
        args.rounds, lambda: [r["label"] for r in classifier.predict(texts, progress=False)]
    )
    right = sum((label == "positive") == (y == 1) for label, y in zip(labels, sst2["label"]))
    result = {
        "parser_words_per_s": round(words / seconds),
        "parser_ewt_test": {k: round(v, 2) for k, v in scores.items()},
        "sentiment_sentences_per_s": round(len(texts) / seconds_s),
        "sentiment_sst2_test": round(100 * right / len(texts), 2),
        "rounds_s": {"parser": [round(t, 2) for t in rounds_p], "sentiment": [round(t, 2) for t in rounds_s]},
        "setup": {"words": words, "sentences": len(texts), "device": "cpu", "precision": "fp32"},
        **run_record(f"python benchmarks/parse_speed.py --parser {args.parser} --sentiment {args.sentiment}"),
    }
    write_json(result, Path(args.out))
    print(result["parser_words_per_s"], "words/s parsed;", result["sentiment_sentences_per_s"], "sentences/s")


if __name__ == "__main__":
    main()
