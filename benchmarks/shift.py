"""Benchmark shift correction: self-training EN->DE, re-weighting Food->Movie, label shift.

    python benchmarks/shift.py --tagger runs/benchmark_pos_en_de/model
    python benchmarks/shift.py --tagger runs/benchmark_pos_en_de/model --carry-over

Runs recipes/self_training.py (3 seeds from one source tagger, into German UD's conventions
and keeping English UD's; a finished run directory is reused) and recipes/bias_correction.py
(3 seeds, every re-weighting method against the uncorrected classifier on the same draw, label
shift on a 90/10 target), then writes benchmarks/results/shift.json with mean and standard
deviation over seeds (entries other benchmarks wrote there are kept). ``--carry-over`` keeps
the Food -> Movie results of the existing JSON (with the command and commit that measured them)
and reruns only the self-training.
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


def self_training(name: str, overrides: list[str], args: argparse.Namespace) -> list[dict]:
    """The self-training recipe per seed (a run directory with metrics.json is reused)."""
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        out = Path(args.runs) / f"{name}_seed{seed}"
        if not (out / "metrics.json").is_file():
            recipe("self_training")(
                [
                    "--config",
                    str(REPO / "recipes/configs/self_training_de.yaml"),
                    f"source_model={args.tagger}",
                    f"seed={seed}",
                    f"output_dir={out}",
                    "eval=[ud:de_gsd:test,ud:en_ewt:test]",
                    *overrides,
                ]
            )
        rows.append(json.loads((out / "metrics.json").read_text()))
    return rows


def self_training_summary(rows: list[dict], args: argparse.Namespace) -> dict:
    return {
        "seeds": [r["config"]["seed"] for r in rows],
        "source_tagger": args.tagger,
        "convention": rows[0]["config"].get("convention") or None,
        "de_gsd_test": {
            "before": mean_std(r["before"]["ud:de_gsd:test"] for r in rows),
            "after": mean_std(r["after"]["ud:de_gsd:test"] for r in rows),
        },
        "en_ewt_test": {
            "before": mean_std(r["before"]["ud:en_ewt:test"] for r in rows),
            "after": mean_std(r["after"]["ud:en_ewt:test"] for r in rows),
        },
        "pseudo_labelled_share": mean_std(r["rounds"][-1]["pseudo_labels"]["kept_share"] for r in rows),
        "config": rows[0]["config"],
        "runs": [r["run"]["command"] if "run" in r else r.get("command") for r in rows],  # older runs: top level
        "note": "one source tagger; seeds vary the convention head's and the source sentences' draw and the order",
    }


def food_movie(args: argparse.Namespace) -> dict:
    """Re-weighting and label shift, Food -> Movie, from recipes/bias_correction.py."""
    seeds = [int(s) for s in args.seeds.split(",")]
    sentiment = recipe("bias_correction")(
        [
            "--config",
            str(REPO / "recipes/configs/bias_correction_food_movie.yaml"),
            f"seeds={seeds}",
            f"output_dir={Path(args.runs) / 'shift_food_movie'}",
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
    return {
        "label_shift_prior_abs_error": label_shift["in_domain"]["em_prior_abs_error"]["mean"],
        "label_shift_acc_gain": label_shift["in_domain"]["em_gain"]["mean"],
        "food_movie_reweighting": reweighting,
        "label_shift": label_shift,
        "sentiment_config": sentiment["config"],
    }


FOOD_MOVIE_KEYS = (
    "label_shift_prior_abs_error",
    "label_shift_acc_gain",
    "food_movie_reweighting",
    "label_shift",
    "sentiment_config",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tagger", default=str(REPO / "runs/benchmark_pos_en_de/model"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--runs", default=str(REPO / "runs"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/shift.json"))
    parser.add_argument("--carry-over", action="store_true", help="keep the Food -> Movie results of --out")
    args = parser.parse_args()

    # 1. Self-training EN->DE on GSD dev text; scored on GSD test (and EWT test, for the source task).
    convention = self_training("selftrain_de_ud_de", [], args)
    plain = self_training("selftrain_de", ["convention=''"], args)

    # 2. Food -> Movie re-weighting and label shift (or the previous run's, named).
    out = Path(args.out)
    previous = json.loads(out.read_text()) if out.is_file() else {}  # genre_shift.py, few_shot.py write here too
    carried = previous.pop("carried_over", {})  # only what this run carries over stays marked as carried
    if args.carry_over:
        sentiment = {k: previous[k] for k in FOOD_MOVIE_KEYS}
        carried = {
            "food_movie": carried.get("food_movie")
            or {"command": previous["command"], "git_commit": previous["git_commit"]}
        }
    else:
        sentiment, carried = food_movie(args), {}

    selftrain = self_training_summary(convention, args)
    selftrain_plain = self_training_summary(plain, args)
    result = {
        "de_gsd_test_upos_selftrain": round(selftrain["de_gsd_test"]["after"]["mean"], 2),
        "de_gsd_test_upos_selftrain_std": round(selftrain["de_gsd_test"]["after"]["std"], 2),
        "de_gsd_test_upos_convention_head": round(selftrain["de_gsd_test"]["before"]["mean"], 2),
        "de_gsd_test_upos_selftrain_source_conventions": round(selftrain_plain["de_gsd_test"]["after"]["mean"], 2),
        "de_gsd_test_upos_baseline": round(selftrain_plain["de_gsd_test"]["before"]["mean"], 2),
        "selftrain": selftrain,
        "selftrain_source_conventions": selftrain_plain,
        **sentiment,
        **({"carried_over": carried} if carried else {}),
        **run_record("python benchmarks/shift.py " + " ".join(sys.argv[1:])),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**previous, **result}, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)}, indent=2))


if __name__ == "__main__":
    main()
