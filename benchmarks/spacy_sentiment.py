"""Benchmark the Food -> Movie models through spaCy and `xdomain_nlp.load(...).predict` against the recipe.

    python benchmarks/spacy_sentiment.py --run runs/sentiment_food_to_movie

For every model the recipe saved in ``--run`` (``plain``, ``relational``, ``relational_lexicon``;
the first seed's), SST-2 test is classified from its raw text by a blank English spaCy pipeline
with ``xdomain_sentiment`` (spaCy's tokenizer, the model's parser inside the component) and by
`xdomain_nlp.load(model).predict`; each accuracy is set beside the one the recipe recorded for
that model (its unadjusted accuracy when the run had ``label_shift: em``). Both run at
``--precision`` (default fp32, the precision the recipe scores in, so that the paths can agree to
the sentence; benchmarks/parse_speed.py measures what ``auto`` changes). Writes
benchmarks/results/spacy_sentiment.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import spacy

import xdomain_nlp
from xdomain_nlp.data import load_corpus
from xdomain_nlp.training import run_record

REPO = Path(__file__).resolve().parents[1]
SST2 = "sentiment:sst2:test"


def accuracy(predicted: list[str], gold: list[int], labels: list[str]) -> float:
    return round(100 * sum(labels.index(p) == g for p, g in zip(predicted, gold)) / len(gold), 2)


def measure(model_dir: Path, texts: list[str], gold: list[int], precision: str) -> dict:
    meta = json.loads((model_dir / "xdomain.json").read_text())
    recorded = meta["metrics"].get("unadjusted", meta["metrics"])[SST2]
    classifier = xdomain_nlp.load(model_dir, device="cpu", precision=precision)
    start = time.perf_counter()
    predicted = [r["label"] for r in classifier.predict(texts, progress=False)]
    predict_s = time.perf_counter() - start
    nlp = spacy.blank("en")
    nlp.add_pipe("xdomain_sentiment", config={"model": str(model_dir), "device": "cpu", "precision": precision})
    start = time.perf_counter()
    cats = [doc.cats for doc in nlp.pipe(texts)]
    spacy_s = time.perf_counter() - start
    in_spacy = [max(c, key=c.get) for c in cats]
    labels = classifier.labels
    return {
        "recipe_accuracy": round(recorded, 2),
        "predict_accuracy": accuracy(predicted, gold, labels),
        "spacy_accuracy": accuracy(in_spacy, gold, labels),
        "predict_vs_recipe": round(accuracy(predicted, gold, labels) - recorded, 2),
        "spacy_vs_recipe": round(accuracy(in_spacy, gold, labels) - recorded, 2),
        "sentences_per_s": {"predict": round(len(texts) / predict_s, 1), "spacy": round(len(texts) / spacy_s, 1)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", default=str(REPO / "runs/sentiment_food_to_movie"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/spacy_sentiment.json"))
    parser.add_argument("--precision", default="fp32", help="of both paths: fp32 (the recipe's), auto or bf16")
    args = parser.parse_args()
    test = load_corpus(SST2)
    texts, gold = list(test["text"]), list(test["label"])
    run = Path(args.run)
    models = {d.name: d / "model" for d in sorted(run.iterdir()) if (d / "model" / "xdomain.json").is_file()}
    if not models:
        raise SystemExit(f"{run}: no saved models (expected <method>/model from recipes/sentiment_food_to_movie.py)")
    measured = {name: measure(path, texts, gold, args.precision) for name, path in models.items()}
    result: dict = {"sentences": len(texts), "precision": args.precision, "models": measured}
    result["max_abs_spacy_vs_recipe"] = max(abs(m["spacy_vs_recipe"]) for m in result["models"].values())
    result |= run_record("python benchmarks/spacy_sentiment.py " + " ".join(sys.argv[1:]))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["models"], indent=2))


if __name__ == "__main__":
    main()
