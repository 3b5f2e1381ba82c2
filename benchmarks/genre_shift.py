"""Benchmark English genre shift in EWT: train UPOS on three genres, score on the other two.

    python benchmarks/genre_shift.py                 # 3 seeds x (none, kliep, domain_classifier)

Source: EWT train email + newsgroup + weblog (labelled). Target: reviews + answers; its train
text is the unlabelled target text the instance weights are fitted on, its test split is scored.
Each method runs recipes/pos_en_de.py with ``reweight=<method>`` (weights in the tagger's loss),
1 epoch, against the unweighted run of the same seed; the guard compares them on target dev.
Besides overall accuracy, accuracy is reported on the target test tokens of *context-biased*
words: frequent in both genres, with a different tag distribution (total variation > ``--tvd``),
found by the diagnosis on the labelled train splits of both sides (evaluation only; no target
label reaches training).
Writes the ``ewt_genre_shift`` entry of benchmarks/results/shift.json.
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from pathlib import Path

import numpy as np

from xdomain_nlp.data import load_corpus
from xdomain_nlp.shift import check_negative_transfer
from xdomain_nlp.shift.diagnosis import context_biased_words
from xdomain_nlp.shift.report import load_side
from xdomain_nlp.tagging import encode_corpus, load_tagger, predict_windows
from xdomain_nlp.training import inference_dtype, run_record

REPO = Path(__file__).resolve().parents[1]
pos_recipe = runpy.run_path(str(REPO / "recipes/pos_en_de.py"), run_name="recipe")["main"]

SOURCE_GENRES, TARGET_GENRES = "email,newsgroup,weblog", "reviews,answers"
TRAIN = f"ud:en_ewt:train[genre={SOURCE_GENRES}]"
TARGET_TEXT = f"ud:en_ewt:train[genre={TARGET_GENRES}]"
TARGET_DEV = f"ud:en_ewt:dev[genre={TARGET_GENRES}]"
TARGET_TEST = f"ud:en_ewt:test[genre={TARGET_GENRES}]"
SOURCE_TEST = f"ud:en_ewt:test[genre={SOURCE_GENRES}]"


def run(method: str, seed: int, runs: Path) -> Path:
    """The recipe's output folder for (method, seed), training it first when it is not there."""
    out = runs / f"{method}_seed{seed}"
    if not (out / "metrics.json").is_file():
        pos_recipe(
            [
                "--config",
                str(REPO / "recipes/configs/pos_en_de.yaml"),
                f"train={TRAIN}",
                f'eval=["{TARGET_DEV}", "{TARGET_TEST}", "{SOURCE_TEST}"]',
                f"reweight={method}",
                f"reweight_target={TARGET_TEXT}",
                "epochs=1",
                f"seed={seed}",
                f"output_dir={out}",
                "convention=''",  # German conventions are beside the point of an English genre shift
            ]
        )
    return out


def biased_word_accuracy(model_dir: Path, words: set[str]) -> tuple[float, int]:
    """Accuracy of the saved tagger on target-test tokens whose lower-cased form is in ``words``."""
    model, tokenizer, _ = load_tagger(model_dir)
    test = load_corpus(TARGET_TEST)
    windows = encode_corpus(test, tokenizer, label_column=None, label2id=None)
    pred, _ = predict_windows(
        model, windows, len(test), pad_id=tokenizer.pad_token_id, autocast_dtype=inference_dtype("cpu")
    )
    hits = total = 0
    for ws, gold, ps in zip(test["words"], test["upos"], pred):
        for w, g, p in zip(ws, gold, ps):
            if w.lower() in words:
                total += 1
                hits += model.labels[p] == g
    return 100.0 * hits / max(total, 1), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default="none,kliep,domain_classifier")
    parser.add_argument(
        "--tvd", type=float, default=0.2, help="a context-biased word's tag distributions differ by this"
    )
    parser.add_argument("--min-count", type=int, default=10)
    parser.add_argument("--runs", default=str(REPO / "runs/genre_shift"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/shift.json"))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    methods = args.methods.split(",")

    _, shared = context_biased_words(load_side(TRAIN), load_side(TARGET_TEXT), min_count=args.min_count)
    biased = [r for r in shared if r["tvd"] > args.tvd]
    words = {r["word"] for r in biased}
    print(f"{len(words)} context-biased words (TVD > {args.tvd}): {sorted(words)[:20]} ...")

    per_run: dict[str, dict[int, dict]] = {m: {} for m in methods}
    for seed in seeds:
        for method in methods:
            out = run(method, seed, Path(args.runs))
            metrics = json.loads((out / "metrics.json").read_text())
            acc_biased, n_biased = biased_word_accuracy(out / "model", words)
            per_run[method][seed] = {
                "target_dev": metrics["results"][TARGET_DEV]["accuracy"],
                "target": metrics["results"][TARGET_TEST]["accuracy"],
                "source": metrics["results"][SOURCE_TEST]["accuracy"],
                "biased_words": acc_biased,
                "biased_tokens": n_biased,
                "reweighting": metrics.get("reweighting"),
            }
            print(f"seed {seed} {method}: {per_run[method][seed]}", flush=True)

    def stats(values) -> dict:
        values = np.asarray(list(values), dtype=float)
        std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        return {"mean": round(float(values.mean()), 2), "std": round(std, 2)}

    summary = {}
    for method in methods:
        rows = per_run[method]
        entry = {k: stats(r[k] for r in rows.values()) for k in ("target", "source", "biased_words")}
        if method != "none" and "none" in per_run:
            entry["gain_vs_none"] = {
                k: stats(rows[s][k] - per_run["none"][s][k] for s in seeds) for k in ("target", "biased_words")
            }
            flags = [
                check_negative_transfer(
                    f"{method} (seed {s})", TARGET_DEV, per_run["none"][s]["target_dev"], rows[s]["target_dev"]
                )
                for s in seeds
            ]
            entry["flagged_by_guard"] = sum(f.harmful for f in flags)
            entry["effective_sample_size"] = stats(rows[s]["reweighting"]["effective_sample_size"] for s in seeds)
        summary[method] = entry
    out = Path(args.out)
    result = json.loads(out.read_text()) if out.is_file() else {}
    result["ewt_genre_shift"] = {
        "source": TRAIN,
        "target_text": TARGET_TEXT,
        "target_test": TARGET_TEST,
        "source_test": SOURCE_TEST,
        "context_biased_words": biased,
        "biased_tokens_in_target_test": next(iter(per_run[methods[0]].values()))["biased_tokens"],
        "methods": summary,
        "runs": {m: {str(s): r for s, r in rows.items()} for m, rows in per_run.items()},
        **run_record("python benchmarks/genre_shift.py " + " ".join(sys.argv[1:])),
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
