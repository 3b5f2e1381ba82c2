"""Benchmark relational transfer: parser (EWT), aspect terms (SemEval-2014), Food -> Movie sentiment.

    python benchmarks/relational.py
    python benchmarks/relational.py --carry-over   # runs missing from runs/ keep their figures from the JSON

Runs (or reuses, when its metrics.json exists) recipes/parser_ewt.py, recipes/aspect_terms.py
for 3 seeds, recipes/sentiment_food_to_movie.py (plain / relational / relational+lexicon, relation
ablation) once per seed, the same recipe's plain model trained on SST-2 train (the in-domain upper
bound) once per seed and recipes/sentiment_blitzer.py (the 12 Amazon pairs), then writes
benchmarks/results/relational.json (mean and sample standard deviation over seeds; ``measured_at``
names the commit of each run the figures come from). With ``--carry-over``, a run whose
metrics.json is not on disk is not rerun: its figures and its ``measured_at`` are taken from the
existing JSON, and ``carried_over`` names the run that measured them (``remeasured``: a recipe run on
its own). The parser, the Food -> Movie run and its SST-2 upper bound are never carried: the
sentiment runs parse with the parser, and a bound is measured with the runs it bounds.
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


def sentiment_by_seed(name: str, runs: Path, seeds: list[int], *overrides: str) -> tuple[list[str], list[dict]]:
    """The Food -> Movie recipe once per seed, in ``<name>_seed<s>``. A finished seed stays on disk, so the
    hours this takes on a CPU can be spent in parts; the recipe seeds each model with its own seed."""
    names = [f"{name}_seed{s}" for s in seeds]
    measured = [
        metrics_of("sentiment_food_to_movie", runs / n, "sentiment_food_to_movie.yaml", *overrides, f"seeds=[{s}]")
        for n, s in zip(names, seeds, strict=True)
    ]
    return names, measured


def merged(measured: list[dict], seeds: list[int]) -> dict:
    """Runs of one seed each as one run of all of them (what the figures read)."""
    per_seed = {key: run for m in measured for key, run in m["runs"].items()}
    return {"config": {**measured[0]["config"], "seeds": seeds}, "runs": per_seed}


def parser_figures(run: dict) -> dict:
    parse = run["results"]["ud:en_ewt:test"]
    return {
        "ewt_test_uas": round(parse["uas"], 2),
        "ewt_test_las": round(parse["las"], 2),
        "parser_config": run["config"],
    }


def aspect_figures(runs: list[dict]) -> dict:
    test = [m["results"]["absa:semeval14_restaurants:test"] for m in runs]
    return {
        "semeval14_ate_f1": mean_std(r["f1"] for r in test)["mean"],
        "semeval14_ate": {k: mean_std(r[k] for r in test) for k in ("precision", "recall", "f1")},
    }


def sentiment_figures(run: dict, seeds: list[int]) -> dict:
    """Each method's own (argmax) accuracy; with ``label_shift: em`` also the EM-adjusted accuracy."""
    per_seed, methods = run["runs"], run["config"]["methods"]

    def accuracy(method: str, seed: int, spec: str) -> float:
        measured = per_seed[f"{method}/seed{seed}"]
        return measured.get("unadjusted", measured)[spec]  # under label_shift: em, [spec] is the adjusted one

    def score(method: str, spec: str) -> dict:
        return mean_std(accuracy(method, s, spec) for s in seeds)

    figures = {
        "sentiment": {m: {SST2: score(m, SST2), IMDB: score(m, IMDB)} for m in methods},
        "relational_gain_sst2": mean_std(accuracy("relational", s, SST2) - accuracy("plain", s, SST2) for s in seeds),
        "relation_ablation_sst2": {
            r: mean_std(per_seed[f"relational/seed{s}"]["ablation"][r] for s in seeds) for r in run["config"]["ablate"]
        },
        "sentiment_config": run["config"],
    }
    if run["config"].get("label_shift", "none") == "em":
        specs = (SST2, IMDB)
        figures["sentiment_label_shift_em"] = {
            m: {spec: mean_std(per_seed[f"{m}/seed{s}"][spec] for s in seeds) for spec in specs} for m in methods
        }
        figures["positive_prior_estimated"] = {
            m: {spec: mean_std(per_seed[f"{m}/seed{s}"]["target_priors"][spec][1] for s in seeds) for spec in specs}
            for m in methods
        }
    for method, key in (("plain", "plain"), ("relational", "relational"), ("relational+lexicon", "relational_lexicon")):
        if method in methods:
            figures[f"sst2_test_{key}"] = figures["sentiment"][method][SST2]["mean"]
            figures[f"uci_imdb_{key}"] = figures["sentiment"][method][IMDB]["mean"]
    if "relational+lexicon" in methods:
        figures["lexicon"] = {
            k: mean_std(per_seed[f"relational+lexicon/seed{s}"]["lexicon"][k] for s in seeds)
            for k in ("precision_at_k", "polarity_accuracy", "extracted", "topics")
        }
        figures["pseudo_labels"] = mean_std(per_seed[f"relational+lexicon/seed{s}"]["pseudo_labels"] for s in seeds)
    return figures


def in_domain_figures(run: dict, seeds: list[int]) -> dict:
    bound = {spec: mean_std(run["runs"][f"plain/seed{s}"][spec] for s in seeds) for spec in (SST2, IMDB)}
    return {
        "in_domain_upper_bound": bound,
        "sst2_test_in_domain": bound[SST2]["mean"],
        "uci_imdb_in_domain": bound[IMDB]["mean"],
    }


def blitzer_figures(run: dict) -> dict:
    best = run["best_method"]
    return {
        "blitzer": {
            "average": {m: round(v, 2) for m, v in run["average"].items()},
            "pairs": run["pairs"],
            "in_domain_cv": run["in_domain_cv"],
            "best_method": best,
            "config": run["config"],
        },
        "blitzer_avg": round(run["average"][best], 2),
        "blitzer_avg_source_only": round(run["average"]["source_only"], 2),
    }


# The figures each carried-over group of runs contributes to the JSON.
CARRIED_KEYS = {
    "aspect_terms": ("semeval14_ate_f1", "semeval14_ate"),
    "sentiment_blitzer": ("blitzer", "blitzer_avg", "blitzer_avg_source_only"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--runs", default=str(REPO / "runs"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/relational.json"))
    parser.add_argument(
        "--carry-over", action="store_true", help="keep the JSON's figures for runs whose metrics.json is not on disk"
    )
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs, out = Path(args.runs), Path(args.out)
    previous = json.loads(out.read_text()) if args.carry_over and out.is_file() else None
    parsed_by = f"parser={runs / 'parser_ewt' / 'model'}"
    result: dict = {}
    measured_at: dict[str, str] = {}
    carried: dict[str, dict] = {}
    remeasured: dict[str, dict] = {}  # carried runs that were measured again by their recipe alone

    def carry(group: str, names: list[str]) -> bool:
        """With --carry-over and a run of the group not on disk, the group's figures come from the JSON."""
        if previous is None or all((runs / n / "metrics.json").is_file() for n in names):
            return False
        unknown = [n for n in names if n not in previous.get("measured_at", {})]
        if unknown:
            raise ValueError(f"--carry-over: {out} does not name the runs {unknown}; run them (no --carry-over)")
        result.update({k: previous[k] for k in CARRIED_KEYS[group]})
        measured_at.update({n: previous["measured_at"][n] for n in names})
        # Where the figures come from: the run that re-measured them on its own, else the benchmark
        # run that first wrote them.
        first = {"command": previous["command"], "git_commit": previous["git_commit"]}
        again = {n: previous["remeasured"][n] for n in names if n in previous.get("remeasured", {})}
        remeasured.update(again)
        carried[group] = again.get(names[0]) or previous.get("carried_over", {}).get(group, first)
        return True

    def record(names: list[str], measured: list[dict], figures: dict) -> None:
        """The figures of runs measured now, and each run's commit."""
        result.update(figures)
        measured_at.update({n: m["run"]["git_commit"] for n, m in zip(names, measured, strict=True)})

    # Never carried: the Food -> Movie runs below parse with this model.
    run = metrics_of("parser_ewt", runs / "parser_ewt", "parser_ewt.yaml")
    record(["parser_ewt"], [run], parser_figures(run))
    ate_names = [f"aspect_terms_seed{s}" for s in seeds]
    if not carry("aspect_terms", ate_names):
        ate = [
            metrics_of("aspect_terms", runs / n, "aspect_terms_semeval14.yaml", f"seed={s}")
            for n, s in zip(ate_names, seeds)
        ]
        record(ate_names, ate, aspect_figures(ate))
    names, measured = sentiment_by_seed("sentiment_food_to_movie", runs, seeds, parsed_by, "label_shift=em")
    record(names, measured, sentiment_figures(merged(measured, seeds), seeds))
    # The upper bound: the plain model with Movie labels (SST-2 train), scored on the same targets.
    # Never carried: a bound is measured with the runs it bounds.
    names, measured = sentiment_by_seed(
        "sentiment_sst2_in_domain", runs, seeds, parsed_by, "train=[sentiment:sst2:train]", "methods=[plain]",
        "ablate=[]",
    )  # fmt: skip
    record(names, measured, in_domain_figures(merged(measured, seeds), seeds))
    if not carry("sentiment_blitzer", ["sentiment_blitzer"]):
        run = metrics_of("sentiment_blitzer", runs / "sentiment_blitzer", "sentiment_blitzer.yaml")
        record(["sentiment_blitzer"], [run], blitzer_figures(run))
    result["measured_at"] = measured_at
    if carried:
        result["carried_over"] = carried
    if remeasured:
        result["remeasured"] = remeasured
    result.update(run_record("python benchmarks/relational.py " + " ".join(sys.argv[1:])))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}, indent=2))


if __name__ == "__main__":
    main()
