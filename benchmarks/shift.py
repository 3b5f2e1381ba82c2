"""Benchmark shift correction: self-training EN->DE, re-weighting Food->Movie, label shift.

    python benchmarks/shift.py --tagger runs/benchmark_pos_en_de/model

Runs recipes/bias_correction.py (3 seeds, every re-weighting method against the uncorrected
classifier on the same draw, label shift on a 90/10 target) and recipes/self_training.py (3
seeds from one source tagger; a finished run directory is reused), then writes
benchmarks/results/shift.json with mean and standard deviation over seeds.
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


def recipe(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def mean_std(values) -> dict:
    values = np.asarray(list(values), dtype=np.float64)
    return {"mean": round(float(values.mean()), 3), "std": round(float(values.std(ddof=1)), 3), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tagger", default=str(REPO / "runs/benchmark_pos_en_de/model"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--runs", default=str(REPO / "runs"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/shift.json"))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = Path(args.runs)

    # 1. Self-training EN->DE on GSD dev text; scored on GSD test (and EWT test, for the source task).
    selftrain = []
    for seed in seeds:
        out = runs / f"selftrain_de_seed{seed}"
        if not (out / "metrics.json").is_file():
            recipe("self_training")(
                [
                    "--config",
                    str(REPO / "recipes/configs/self_training_de.yaml"),
                    f"source_model={args.tagger}",
                    f"seed={seed}",
                    f"output_dir={out}",
                    "eval=[ud:de_gsd:test,ud:en_ewt:test]",
                ]
            )
        selftrain.append(json.loads((out / "metrics.json").read_text()))

    # 2. Food -> Movie re-weighting and label shift.
    sentiment = recipe("bias_correction")(
        [
            "--config",
            str(REPO / "recipes/configs/bias_correction_food_movie.yaml"),
            f"seeds={seeds}",
            f"output_dir={runs / 'shift_food_movie'}",
        ]
    )

    methods = sentiment["config"]["methods"]
    evals = sentiment["config"]["eval"]
    reweighting = {}
    for method in methods:
        rows = [r for r in sentiment["reweighting"] if r["method"] == method]
        entry = {spec: mean_std(r["eval"][spec] for r in rows) for spec in evals}
        entry["held_out"] = mean_std(r["held_out"] for r in rows)
        if method != "none":
            base = {r["seed"]: r for r in sentiment["reweighting"] if r["method"] == "none"}
            entry["gain_vs_none"] = {
                spec: mean_std(r["eval"][spec] - base[r["seed"]]["eval"][spec] for r in rows) for spec in evals
            }
            entry["flagged_by_guard"] = sum(r["guard"]["harmful"] for r in rows)
            if "effective_sample_size" in rows[0]:
                entry["effective_sample_size"] = mean_std(r["effective_sample_size"] for r in rows)
            if "final_domain_accuracy" in rows[0]:
                entry["final_domain_accuracy"] = mean_std(r["final_domain_accuracy"] for r in rows)
        reweighting[method] = entry
    label_shift = {}
    for setting in ("in_domain", "food_source"):
        rows = [r for r in sentiment["label_shift"] if r["setting"] == setting]
        label_shift[setting] = {
            "em_prior_abs_error": mean_std(abs(r["em_positive_share"] - r["true_positive_share"]) for r in rows),
            "bbse_prior_abs_error": mean_std(abs(r["bbse_positive_share"] - r["true_positive_share"]) for r in rows),
            "accuracy_before": mean_std(r["accuracy_before"] for r in rows),
            "accuracy_em": mean_std(r["accuracy_em"] for r in rows),
            "accuracy_bbse": mean_std(r["accuracy_bbse"] for r in rows),
            "em_gain": mean_std(r["accuracy_em"] - r["accuracy_before"] for r in rows),
        }

    de_after = [r["after"]["ud:de_gsd:test"] for r in selftrain]
    de_before = [r["before"]["ud:de_gsd:test"] for r in selftrain]
    result = {
        "de_gsd_test_upos_selftrain": round(float(np.mean(de_after)), 2),
        "de_gsd_test_upos_selftrain_std": round(float(np.std(de_after, ddof=1)), 2),
        "de_gsd_test_upos_baseline": round(float(np.mean(de_before)), 2),
        "label_shift_prior_abs_error": label_shift["in_domain"]["em_prior_abs_error"]["mean"],
        "label_shift_acc_gain": label_shift["in_domain"]["em_gain"]["mean"],
        "selftrain": {
            "seeds": seeds,
            "source_tagger": args.tagger,
            "de_gsd_test": {"before": mean_std(de_before), "after": mean_std(de_after)},
            "en_ewt_test": {
                "before": mean_std(r["before"]["ud:en_ewt:test"] for r in selftrain),
                "after": mean_std(r["after"]["ud:en_ewt:test"] for r in selftrain),
            },
            "pseudo_labelled_share": mean_std(r["rounds"][-1]["pseudo_labels"]["kept_share"] for r in selftrain),
            "config": selftrain[0]["config"],
            "note": "one source tagger; seeds vary the source-sentence draw and the fine-tuning order",
        },
        "food_movie_reweighting": reweighting,
        "label_shift": label_shift,
        "sentiment_config": sentiment["config"],
        **run_record("python benchmarks/shift.py " + " ".join(sys.argv[1:])),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}, indent=2))


if __name__ == "__main__":
    main()
