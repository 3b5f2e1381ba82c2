"""Does a refactor change what the recipes compute? Run each recipe small at two commits and compare.

    python benchmarks/same_results.py --before 1105dfd --after HEAD --tagger runs/pos_en_de/model
    python benchmarks/same_results.py --before 1105dfd --after HEAD --only parser_ewt,aspect_terms

Each recipe runs with its shipped config and a few overrides that make it small (the same seed at
both commits), in a fresh process on a clean worktree of each commit; the ``results`` of its
``metrics.json`` must then be equal number for number. A change that is meant to be pure
restructuring passes this exactly; one that changes the arithmetic shows where. Writes
benchmarks/results/same_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xdomain_nlp.training import run_record

REPO = Path(__file__).resolve().parents[1]

# recipe -> (config, overrides); {tagger} is a trained UPOS tagger, {parser} the parser this run trains.
SMALL = {
    "pos_en_de": ("pos_en_de", ["train_limit=64", "epochs=1", "eval=[ud:de_gsd:test]", "eval_limit=50",
                                "convention_sentences=64"]),
    "parser_ewt": ("parser_ewt", ["train_limit=64", "epochs=1", "eval_limit=50"]),
    "aspect_terms": ("aspect_terms_semeval14", ["train_limit=100", "epochs=1", "eval_limit=50"]),
    "custom_tagset": ("custom_tagset_stts", ["source_model={tagger}", "k=20", "projection_sentences=200",
                                             "projection_tune_steps=8", "projection_tune_sentences=200",
                                             "tune_steps=4", "eval=[ud:de_gsd:test]"]),
    "self_training": ("self_training_de", ["source_model={tagger}", "source_sentences=64",
                                           "convention_rules=['PRON[Poss=Yes] -> DET']", "convention_sentences=300",
                                           "target_limit=64", "eval=[ud:de_gsd:test]", "eval_limit=50"]),
    "sentiment_food_to_movie": ("sentiment_food_to_movie", [
        "parser={parser}", "train_limit=160", "eval=[sentiment:sst2:test]", "eval_limit=80", "seeds=[0]",
        "epochs=1", "ablate=[amod,neg]", "pseudo_per_class=20", "lexicon_rounds=1"]),
    "adapt_encoder_mlm": ("adapt_encoder_mlm_food_movie", ["unlabelled=[sentiment:semeval14_restaurants:test]",
                                                           "head_only_steps=3", "steps=4", "eval_every=4"]),
    "bias_correction": ("bias_correction_food_movie", [
        "train=[sentiment:yelp:all]", "unlabelled_target=[sentiment:imdb:all]", "eval=[sentiment:imdb:all]",
        "seeds=[0]", "target_sample=300", "label_shift_train=sentiment:imdb:all",
        "label_shift_calibration=sentiment:amazon_cells:all", "label_shift_target=sentiment:sst2:dev"]),
    "sentiment_blitzer": ("sentiment_blitzer", ["domains=[kitchen,electronics]", "limit=60", "Cs=[1.0]"]),
}  # fmt: skip


def run_at(commit: str, names: list[str], tagger: str, work: Path) -> dict[str, dict]:
    """Each recipe's ``results`` at ``commit`` (a worktree of it, removed afterwards)."""
    tree = work / f"tree-{commit[:10]}"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=REPO, check=True)
    # One precision on any CPU; a fixed number of BLAS threads (one unless OMP_NUM_THREADS says otherwise)
    # that never changes with the load: the same sums, in the same order, at both commits.
    env = {**os.environ, "PYTHONPATH": str(tree), "ACCELERATE_MIXED_PRECISION": "no", "MKL_DYNAMIC": "FALSE",
           "OMP_DYNAMIC": "FALSE", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}  # fmt: skip
    found = {}
    try:
        for name in names:
            config, overrides = SMALL[name]
            out = work / f"{commit[:10]}-{name}"
            parser = work / f"{commit[:10]}-parser_ewt" / "model"
            argv = [sys.executable, f"recipes/{name}.py", "--config", f"recipes/configs/{config}.yaml",
                    f"output_dir={out}", *(o.format(tagger=tagger, parser=parser) for o in overrides)]  # fmt: skip
            start = time.perf_counter()
            done = subprocess.run(argv, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            seconds = round(time.perf_counter() - start, 1)
            if done.returncode:  # one recipe that cannot run does not stop the others
                error = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                found[name] = {"results": {"error": error}, "seconds": seconds}
            else:
                found[name] = {"results": json.loads((out / "metrics.json").read_text())["results"], "seconds": seconds}
            print(f"{commit[:10]} {name}: {seconds} s", "error: " + error if done.returncode else "", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=True)
    return found


def is_timing(key: str) -> bool:
    """A speed or a duration: it depends on the machine's load, not on what the code computes."""
    return key.endswith("_per_s") or key.endswith("seconds")


def differences(before, after, path: str = "") -> list[str]:
    """Where two results differ (numbers compared exactly; timings left out)."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(k for k in set(before) | set(after) if not is_timing(str(k)))
        return [d for k in keys for d in differences(before.get(k), after.get(k), f"{path}/{k}")]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (b, a) in enumerate(zip(before, after)) for d in differences(b, a, f"{path}[{i}]")]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="the commit before the change")
    parser.add_argument("--after", default="HEAD", help="the commit after it")
    parser.add_argument("--tagger", required=True, help="a trained UPOS tagger (the main job's model)")
    parser.add_argument(
        "--only", default="", help="comma-separated recipes (default: all); the others keep their entries in --out"
    )
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/same_results.json"))
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(SMALL)
    if "sentiment_food_to_movie" in names and "parser_ewt" not in names:
        names.insert(0, "parser_ewt")  # the sentiment run reads the parser this run trains
    commits = [
        subprocess.run(["git", "rev-parse", c], cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
        for c in (args.before, args.after)
    ]
    tagger = str(Path(args.tagger).resolve())
    with tempfile.TemporaryDirectory(prefix="same-results-") as tmp:
        before, after = (run_at(c, names, tagger, Path(tmp)) for c in commits)
    report = {}
    previous = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
    if args.only and [previous.get("before"), previous.get("after")] == commits:
        report.update(previous["recipes"])  # the same two commits: recipes not rerun keep their entries
    for name in names:
        diff = differences(before[name]["results"], after[name]["results"])
        report[name] = {
            "identical": not diff and "error" not in before[name]["results"],  # the same error is no evidence
            "differences": diff[:20] or before[name]["results"].get("error", []),
            "seconds": {"before": before[name]["seconds"], "after": after[name]["seconds"]},
        }
    result = {"before": commits[0], "after": commits[1], "recipes": report,
              "all_identical": all(r["identical"] for r in report.values()),
              **run_record("python benchmarks/same_results.py " + " ".join(sys.argv[1:]))}  # fmt: skip
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({n: r["identical"] for n, r in report.items()}, indent=2))
    sys.exit(0 if result["all_identical"] else 1)


if __name__ == "__main__":
    main()
