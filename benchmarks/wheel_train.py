"""A small run from the built wheel alone: how long a new user waits for ``xdomain-nlp train``.

The wheel is built from a clean copy of the package and installed into its own folder (no
checkout on the path: ``xdomain_nlp`` and its recipes come from the wheel). In an empty folder,
``xdomain-nlp recipes`` lists the recipes, then ``xdomain-nlp train pos_en_de train_limit=200
epochs=1 eval_limit=20`` runs the main job on the embedded encoder with every phase cut down (the
German convention head included), and ``xdomain_nlp.load`` tags a German sentence with the result.
Wall times are measured per command, in fresh processes.

    python benchmarks/wheel_train.py           # writes benchmarks/results/wheel_train.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xdomain_nlp.training import run_record, write_json

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "wheel_train.json"
SMALL = ["train_limit=200", "epochs=1", "eval_limit=20"]
CLI = (
    "import sys, xdomain_nlp\nfrom xdomain_nlp.cli import main\n"
    "print(xdomain_nlp.__file__)\nsys.exit(main(sys.argv[1:]))"
)
TAG = (
    "import json, sys, xdomain_nlp\n"
    "print(json.dumps(xdomain_nlp.load(sys.argv[1]).predict('Das Essen war gestern sehr lecker .')['tags']))"
)


def timed(command: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise SystemExit(f"{' '.join(command[:4])} ...: exit {done.returncode}\n{done.stderr[-3000:]}")
    return round(time.perf_counter() - start, 2), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "source"
        for part in ("xdomain_nlp", "recipes"):
            shutil.copytree(REPO / part, source / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copyfile(REPO / name, source / name)
        build_s, _ = timed([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp / "dist"),
                            str(source)])  # fmt: skip
        (wheel,) = (tmp / "dist").glob("*.whl")
        site = tmp / "site"
        timed([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)])
        user = tmp / "user"
        user.mkdir()
        env = {**os.environ, "PYTHONPATH": str(site)}
        recipes_s, listed = timed([sys.executable, "-c", CLI, "recipes"], cwd=user, env=env)
        if not listed.stdout.startswith(str(site)):
            raise SystemExit(f"xdomain_nlp came from {listed.stdout.splitlines()[0]}, not the wheel")
        run = user / "runs" / "pos_en_de"
        train_s, trained = timed([sys.executable, "-c", CLI, "train", "pos_en_de", *SMALL, f"output_dir={run}"],
                                 cwd=user, env=env)  # fmt: skip
        metrics = json.loads((run / "metrics.json").read_text())
        tag_s, tagged = timed([sys.executable, "-c", TAG, str(run / "model")], cwd=user, env=env)
        result = {
            "train_seconds_wall": train_s,
            "under_3_minutes": train_s < 180,
            "train_command": f"xdomain-nlp train pos_en_de {' '.join(SMALL)} output_dir=runs/pos_en_de",
            "recipes_seconds_wall": recipes_s,
            "recipes_listed": sum(1 for line in listed.stdout.splitlines()[1:] if line and not line[0].isspace()),
            "load_and_tag_seconds_wall": tag_s,
            "german_tags": json.loads(tagged.stdout.strip().splitlines()[-1]),
            "results": {spec: r["accuracy"] for spec, r in metrics["results"].items()},
            "convention_results": {
                spec: r["accuracy"] for spec, r in (metrics.get("convention") or {}).get("results", {}).items()
            },
            "train_seconds": metrics.get("train_seconds"),
            "wheel_mb": round(wheel.stat().st_size / 2**20, 2),
            "build_seconds_wall": build_s,
            "last_line": trained.stdout.strip().splitlines()[-1],
            **run_record("python benchmarks/wheel_train.py"),
        }
    write_json(result, Path(args.out))
    print({k: result[k] for k in ("train_seconds_wall", "under_3_minutes", "results", "german_tags")})


if __name__ == "__main__":
    main()
