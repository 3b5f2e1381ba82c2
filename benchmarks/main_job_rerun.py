"""The main job again after a change to the loop: the same accuracies, no slower, on this machine.

1. Accuracy: the main job's recipe and config at the current commit (a finished ``--run-dir`` is
   reused), its GSD and EWT figures set beside the ones in benchmarks/results/pos_en_de.json.
2. Speed: the same short run (``--speed-sentences`` EWT sentences, one epoch, no evaluation, no
   convention head) at ``--baseline`` and at the current commit, each in a fresh process from its
   own worktree, alternately ``--rounds`` times; the wall time of the whole process is compared
   (the two commits count training throughput differently, so the process's wall time is the
   common measure).

    python benchmarks/main_job_rerun.py --baseline 166bc5f      # writes benchmarks/results/main_job_rerun.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xdomain_nlp.training import run_record, write_json

REPO = Path(__file__).resolve().parents[1]
CONFIG = "recipes/configs/pos_en_de.yaml"
KEYS = {  # pos_en_de.json key -> (metrics section, eval set)
    "de_gsd_test_upos": ("convention", "ud:de_gsd:test"),
    "de_gsd_dev_upos": ("convention", "ud:de_gsd:dev"),
    "de_gsd_test_upos_source_conventions": ("results", "ud:de_gsd:test"),
    "de_gsd_dev_upos_source_conventions": ("results", "ud:de_gsd:dev"),
    "en_ewt_test_upos": ("results", "ud:en_ewt:test"),
    "en_pud_test_upos": ("results", "ud:en_pud:test"),
}


def accuracies(run_dir: Path) -> dict:
    m = json.loads((run_dir / "metrics.json").read_text())
    out = {}
    for key, (section, spec) in KEYS.items():
        results = m["convention"]["results"] if section == "convention" else m["results"]
        out[key] = round(results[spec]["accuracy"], 2)
    return out


def short_run(tree: Path, out: Path, sentences: int) -> float:
    """Wall seconds of one short training process run from ``tree`` (its own package on the path)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [
        sys.executable, str(tree / "recipes/pos_en_de.py"), "--config", str(tree / CONFIG), f"output_dir={out}",
        f"train_limit={sentences}", "epochs=1", "eval=[]", "convention=''", "keep_checkpoints=0",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=tree, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", default="runs/pos_en_de_rerun")
    parser.add_argument("--baseline", required=True, help="the commit before the change")
    parser.add_argument("--speed-sentences", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/main_job_rerun.json"))
    args = parser.parse_args()

    run_dir = Path(args.run_dir)
    if not (run_dir / "metrics.json").is_file():
        subprocess.run([sys.executable, str(REPO / "recipes/pos_en_de.py"), "--config", str(REPO / CONFIG),
                        f"output_dir={run_dir}"], check=True, cwd=REPO)  # fmt: skip
    now = accuracies(run_dir)
    published = json.loads((REPO / "benchmarks/results/pos_en_de.json").read_text())
    setup = json.loads((run_dir / "metrics.json").read_text())["setup"]

    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(baseline), args.baseline], cwd=REPO, check=True,
                       capture_output=True)  # fmt: skip
        try:
            walls: dict[str, list[float]] = {"baseline": [], "current": []}
            for r in range(args.rounds):
                for name, tree in (("baseline", baseline), ("current", REPO)):
                    walls[name].append(round(short_run(tree, Path(tmp) / f"{name}{r}", args.speed_sentences), 1))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=REPO, check=True)
    median = {k: statistics.median(v) for k, v in walls.items()}
    result = {
        "accuracy": now,
        "accuracy_in_pos_en_de_json": {k: published[k] for k in KEYS},
        "accuracy_minus_pos_en_de_json": {k: round(now[k] - published[k], 2) for k in KEYS},
        "pos_en_de_json_measured": {"git_commit": published["git_commit"], "machine": published["machine"],
                                    "precision": published.get("training_precision")},
        "setup": setup,
        "speed": {"baseline": args.baseline, "sentences": args.speed_sentences, "wall_s": walls,
                  "current_over_baseline_wall": round(median["current"] / median["baseline"], 3)},
        **run_record(f"python benchmarks/main_job_rerun.py --baseline {args.baseline}"),
    }  # fmt: skip
    write_json(result, Path(args.out))
    print(json.dumps({k: result[k] for k in ("accuracy_minus_pos_en_de_json", "speed")}, indent=2))


if __name__ == "__main__":
    main()
