"""Benchmark relational transfer: parser (EWT), aspect terms (SemEval-2014), Food -> Movie sentiment.

    python benchmarks/relational.py

Runs (or reuses, when its metrics.json exists) recipes/parser_ewt.py, recipes/aspect_terms.py
for 3 seeds, recipes/sentiment_food_to_movie.py (plain / relational / relational+lexicon,
3 seeds, relation ablation), the same recipe's plain model trained on SST-2 train (the in-domain
upper bound) and recipes/sentiment_blitzer.py (the 12 Amazon pairs), then writes
benchmarks/results/relational.json (mean and sample standard deviation over seeds; ``measured_at``
names the commit of each reused run).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from xdomain_nlp.training import run_record

REPO = Path(__file__).resolve().parents[1]
SST2, IMDB = "sentiment:sst2:test", "sentiment:imdb:all"


def recipe(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def mean_std(values) -> dict:
    values = np.asarray(list(values), dtype=np.float64)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": round(float(values.mean()), 2), "std": round(std, 2), "n": len(values)}


def metrics_of(name: str, out: Path, config: str, *overrides: str) -> dict:
    """A recipe's metrics.json, running the recipe first when there is none."""
    if not (out / "metrics.json").is_file():
        recipe(name)(["--config", str(REPO / "recipes/configs" / config), f"output_dir={out}", *overrides])
    return json.loads((out / "metrics.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--runs", default=str(REPO / "runs"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/relational.json"))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = Path(args.runs)

    parser_run = metrics_of("parser_ewt", runs / "parser_ewt", "parser_ewt.yaml")
    parse = parser_run["results"]["ud:en_ewt:test"]
    ate = [
        metrics_of("aspect_terms", runs / f"aspect_terms_seed{s}", "aspect_terms_semeval14.yaml", f"seed={s}")
        for s in seeds
    ]
    ate_test = [m["results"]["absa:semeval14_restaurants:test"] for m in ate]
    sentiment = metrics_of(
        "sentiment_food_to_movie",
        runs / "sentiment_food_to_movie",
        "sentiment_food_to_movie.yaml",
        f"parser={runs / 'parser_ewt' / 'model'}",
        f"seeds={seeds}",
    )
    per_seed = sentiment["runs"]
    methods = sentiment["config"]["methods"]
    # The upper bound: the plain model with Movie labels (SST-2 train), scored on the same targets.
    in_domain = metrics_of(
        "sentiment_food_to_movie",
        runs / "sentiment_sst2_in_domain",
        "sentiment_food_to_movie.yaml",
        f"parser={runs / 'parser_ewt' / 'model'}",
        f"seeds={seeds}",
        "source=[sentiment:sst2:train]",
        "methods=[plain]",
        "ablate=[]",
    )

    def score(method: str, spec: str) -> dict:
        return mean_std(per_seed[f"{method}/seed{s}"][spec] for s in seeds)

    result = {
        "ewt_test_uas": round(parse["uas"], 2),
        "ewt_test_las": round(parse["las"], 2),
        "semeval14_ate_f1": mean_std(r["f1"] for r in ate_test)["mean"],
        "semeval14_ate": {k: mean_std(r[k] for r in ate_test) for k in ("precision", "recall", "f1")},
        "sentiment": {m: {SST2: score(m, SST2), IMDB: score(m, IMDB)} for m in methods},
        "in_domain_upper_bound": {
            spec: mean_std(in_domain["runs"][f"plain/seed{s}"][spec] for s in seeds) for spec in (SST2, IMDB)
        },
        "relational_gain_sst2": mean_std(
            per_seed[f"relational/seed{s}"][SST2] - per_seed[f"plain/seed{s}"][SST2] for s in seeds
        ),
        "relation_ablation_sst2": {
            r: mean_std(per_seed[f"relational/seed{s}"]["ablation"][r] for s in seeds)
            for r in sentiment["config"]["ablate"]
        },
        "parser_config": parser_run["config"],
        "sentiment_config": sentiment["config"],
    }
    for method, key in (("plain", "plain"), ("relational", "relational"), ("relational+lexicon", "relational_lexicon")):
        if method in methods:
            result[f"sst2_test_{key}"] = result["sentiment"][method][SST2]["mean"]
            result[f"uci_imdb_{key}"] = result["sentiment"][method][IMDB]["mean"]
    result["sst2_test_in_domain"] = result["in_domain_upper_bound"][SST2]["mean"]
    result["uci_imdb_in_domain"] = result["in_domain_upper_bound"][IMDB]["mean"]
    if "relational+lexicon" in methods:
        result["lexicon"] = {
            k: mean_std(per_seed[f"relational+lexicon/seed{s}"]["lexicon"][k] for s in seeds)
            for k in ("precision_at_k", "polarity_accuracy", "extracted", "topics")
        }
        result["pseudo_labels"] = mean_std(per_seed[f"relational+lexicon/seed{s}"]["pseudo_labels"] for s in seeds)
    blitzer = metrics_of("sentiment_blitzer", runs / "sentiment_blitzer", "sentiment_blitzer.yaml")
    best = blitzer["best_method"]
    result["blitzer"] = {
        "average": {m: round(v, 2) for m, v in blitzer["average"].items()},
        "pairs": blitzer["pairs"],
        "in_domain_cv": blitzer["in_domain_cv"],
        "best_method": best,
        "config": blitzer["config"],
    }
    result["blitzer_avg"] = round(blitzer["average"][best], 2)
    result["blitzer_avg_source_only"] = round(blitzer["average"]["source_only"], 2)
    reused = {
        "parser_ewt": parser_run,
        **{f"aspect_terms_seed{s}": m for s, m in zip(seeds, ate)},
        "sentiment_food_to_movie": sentiment,
        "sentiment_sst2_in_domain": in_domain,
        "sentiment_blitzer": blitzer,
    }
    result["measured_at"] = {name: run["run"]["git_commit"] for name, run in reused.items()}
    result.update(run_record("python benchmarks/relational.py " + " ".join(sys.argv[1:])))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}, indent=2))


if __name__ == "__main__":
    main()
