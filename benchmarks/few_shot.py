"""Benchmark few-shot target fine-tuning with and without L2-SP: EN->DE UPOS from k German sentences.

    python benchmarks/few_shot.py --source-model runs/pos_en_de/model     # k = 10, 50; alpha 0, 0.01, 0.1

Each run is recipes/self_training.py with configs/self_training_few_shot_de.yaml: the zero-shot English tagger
fine-tuned on k labelled GSD dev sentences (no pseudo-labels, no English), ``l2sp_alpha`` pulling
the weights towards the source model, GSD test scored. Seeds draw different k sentences; every
alpha sees the same sentences for the same seed. The guard compares each run with the tagger
before fine-tuning. Writes the ``de_gsd_few_shot`` entry of benchmarks/results/shift.json.
Each run keeps its metrics.json; its model (470 MB) is deleted unless ``--keep-models``.
"""

from __future__ import annotations

import argparse
import json
import runpy
import shutil
import sys
from pathlib import Path

import numpy as np

from xdomain_nlp.training import run_record

REPO = Path(__file__).resolve().parents[1]
self_training = runpy.run_path(str(REPO / "recipes/self_training.py"), run_name="recipe")["main"]

TEST = "ud:de_gsd:test"


def stats(values) -> dict:
    values = np.asarray(list(values), dtype=float)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": round(float(values.mean()), 2), "std": round(std, 2), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-model", default=str(REPO / "runs/pos_en_de/model"))
    parser.add_argument("--ks", default="10,50")
    parser.add_argument("--alphas", default="0,0.01,0.1")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--runs", default=str(REPO / "runs/few_shot"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/shift.json"))
    parser.add_argument("--keep-models", action="store_true", help="keep each run's fine-tuned model")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    alphas = [float(a) for a in args.alphas.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]

    runs: dict[str, dict] = {}
    before = None
    for k in ks:
        for alpha in alphas:
            for seed in seeds:
                name = f"k{k}_alpha{alpha:g}_seed{seed}"
                out = Path(args.runs) / name
                if not (out / "metrics.json").is_file():
                    self_training(
                        [
                            "--config",
                            str(REPO / "recipes/configs/self_training_few_shot_de.yaml"),
                            f"source_model={args.source_model}",
                            f"target_k={k}",
                            f"l2sp_alpha={alpha}",
                            f"seed={seed}",
                            f"output_dir={out}",
                        ]
                    )
                metrics = json.loads((out / "metrics.json").read_text())
                if not args.keep_models:
                    shutil.rmtree(out / "model", ignore_errors=True)
                before = metrics["before"][TEST]
                runs[name] = {"k": k, "alpha": alpha, "seed": seed, "accuracy": metrics["after"][TEST]}
                runs[name]["guard_flagged"] = any(g["harmful"] for g in metrics["guard"])
                print(f"{name}: {runs[name]['accuracy']:.2f} (before {before:.2f})", flush=True)

    summary = {}
    for k in ks:
        for alpha in alphas:
            rows = [r for r in runs.values() if r["k"] == k and r["alpha"] == alpha]
            entry = stats(r["accuracy"] for r in rows)
            if alpha != 0 and 0.0 in alphas:
                plain = {r["seed"]: r["accuracy"] for r in runs.values() if r["k"] == k and r["alpha"] == 0}
                entry["gain_vs_alpha0"] = stats(r["accuracy"] - plain[r["seed"]] for r in rows)
            summary[f"k{k}_alpha{alpha:g}"] = entry
    out = Path(args.out)
    result = json.loads(out.read_text()) if out.is_file() else {}
    result["de_gsd_few_shot"] = {
        "test": TEST,
        "labelled_pool": "ud:de_gsd:dev",
        "source_model_before": round(before, 2) if before is not None else None,
        "methods": summary,
        "runs": runs,
        **run_record("python benchmarks/few_shot.py " + " ".join(sys.argv[1:])),
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
