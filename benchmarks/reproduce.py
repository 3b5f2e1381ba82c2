"""Every published figure, the command that measures it, and one way to measure it again.

    python benchmarks/reproduce.py list                    # each results file: command, commit, wall time
    python benchmarks/reproduce.py run label_mapping shift --commit 874da3e [--runs /data/runs]

``run`` checks out the named commit (default HEAD) into a fresh git worktree, runs each named
benchmark there (the models it needs first, when ``--runs`` does not hold them yet), copies the
results files it wrote into this checkout's ``benchmarks/results/`` and records the wall time in
``benchmarks/results/reproduce.json``. The worktree is clean by construction, so every figure it
writes carries a commit without ``-dirty``; a checkout with uncommitted code is refused, since
what would be measured is the commit, not the code in front of you.
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
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
TIMES = RESULTS / "reproduce.json"


@dataclass(frozen=True)
class Step:
    """One command; ``{runs}`` in it is the folder of trained models, ``{bundle}`` the GPU check's
    bundle in this checkout (git-ignored, so not in the worktree), ``{commit}`` the commit run."""

    command: str
    writes: tuple[str, ...] = ()  # results files (relative to benchmarks/results) it writes
    needs: tuple[str, ...] = ()  # steps whose output it reads
    makes: str = ""  # a path under {runs} whose presence means the step is done (models)
    gpu: str = "not measured on a GPU"
    note: str = ""
    extra: dict = field(default_factory=dict)


MAIN_JOB = "python recipes/pos_en_de.py --config recipes/configs/pos_en_de.yaml runs={runs}"
STEPS: dict[str, Step] = {
    # Models other benchmarks read.
    "main_job_model": Step(MAIN_JOB, makes="pos_en_de/model/model.safetensors", gpu="see gpu_check"),
    # Results files, each from one script.
    "pos_en_de": Step(
        "python benchmarks/pos_en_de.py --run-dir {runs}/pos_en_de", ("pos_en_de.json",), ("main_job_model",)
    ),
    "label_mapping": Step(
        "python benchmarks/label_mapping.py --source-model {runs}/pos_en_de/model",
        ("label_mapping.json", "label_mapping.png"),
        ("main_job_model",),
    ),
    "shift": Step(
        "python benchmarks/shift.py --tagger {runs}/pos_en_de/model --runs {runs}",
        ("shift.json",),
        ("main_job_model",),
        note="--carry-over keeps the Food -> Movie rows and reruns only the self-training",
    ),
    "genre_shift": Step(
        "python benchmarks/genre_shift.py --methods none,kliep --runs {runs}/genre_shift", ("shift.json",)
    ),
    "few_shot": Step(
        "python benchmarks/few_shot.py --source-model {runs}/pos_en_de/model --runs {runs}/few_shot",
        ("shift.json",),
        ("main_job_model",),
    ),
    "relational": Step(
        "python benchmarks/relational.py --runs {runs}",
        ("relational.json",),
        note="a run whose metrics.json is in {runs} is reused, so the wall time here may be the last part's; "
        "with 1 thread here the parser takes 21 min, a Food -> Movie seed 52 min and an SST-2 bound seed 28 min "
        "(seeds side by side: docs/relational.md)",
    ),
    "attention": Step(
        "python benchmarks/attention.py --model {runs}/pos_en_de/model", ("attention.json",), ("main_job_model",)
    ),
    "compile_and_int8": Step(
        "python benchmarks/compile_and_int8.py --model {runs}/pos_en_de/model",
        ("compile_and_int8.json",),
        ("main_job_model",),
    ),
    "spacy_tagger": Step(
        "python benchmarks/spacy_tagger.py --model {runs}/pos_en_de/model", ("spacy.json",), ("main_job_model",)
    ),
    "spacy_sentiment": Step(
        "python benchmarks/spacy_sentiment.py --run {runs}/sentiment_food_to_movie_seed0",
        ("spacy_sentiment.json",),
        note="reads the models of the relational step's seed-0 Food -> Movie run",
    ),
    "parse_speed": Step(
        "python benchmarks/parse_speed.py --parser {runs}/parser_ewt/model "
        "--sentiment {runs}/sentiment_food_to_movie_seed0/relational/model",
        ("parse_speed.json",),
        note="reads the relational step's parser and its seed-0 Food -> Movie model",
    ),
    "shrink": Step("python benchmarks/shrink.py --model {runs}/pos_en_de/model", ("shrink.json",), ("main_job_model",)),
    "cli_startup": Step("python benchmarks/cli_startup.py", ("cli_startup.json",)),
    "loop_overhead": Step("python benchmarks/loop_overhead.py", ("loop_overhead.json",)),
    "predict_overhead": Step("python benchmarks/predict_overhead.py", ("predict_overhead.json",)),
    "main_job_rerun": Step("python benchmarks/main_job_rerun.py --baseline 166bc5f", ("main_job_rerun.json",)),
    "tag_streaming": Step("python benchmarks/tag_streaming.py", ("tag_streaming.json",)),
    "wheel_train": Step("python benchmarks/wheel_train.py", ("wheel_train.json",)),
    "tests": Step("python benchmarks/suite_timing.py", ("tests.json",)),
    "gpu_check": Step(
        "bash benchmarks/gpu_check.sh --commit {commit}",
        ("gpu_check.json",),
        gpu="the whole point: run through the device tool (see docs/training.md)",
        note="CUDA only; prepare with python benchmarks/gpu_check.py prepare",
    ),
    "gpu_check_cpu": Step(
        "python benchmarks/gpu_check.py run --allow-cpu --bundle {bundle} --train-limit 100 --pos-epochs 1 "
        "--skip pos_en_de_compiled --commit {commit} --out benchmarks/results/gpu_check_cpu.json",
        ("gpu_check_cpu.json",),
        note="every phase of the GPU check tried on this CPU before a bundle is sent (prepare first)",
    ),
}
for _name, _step in STEPS.items():  # the dependency table is checked when the file is read
    assert all(n in STEPS for n in _step.needs), f"{_name} needs an unknown step"


def commits_of(result: dict) -> dict[str, str]:
    """Where each figure of a results JSON was measured: its own commit, each run it read
    (``measured_at``) and each result it carried over from an earlier run (``carried_over``)."""
    found = {"git_commit": result.get("git_commit", "")}
    for name, commit in (result.get("measured_at") or {}).items():
        found[f"measured_at/{name}"] = commit
    carried = result.get("carried_over") or {}
    for name, entry in carried.items() if isinstance(carried, dict) else ():
        if isinstance(entry, dict):
            found[f"carried_over/{name}"] = entry.get("git_commit", "")
    for name, part in result.items():  # sections another benchmark wrote into the same file
        if isinstance(part, dict) and "git_commit" in part and "command" in part:
            found[f"{name}/git_commit"] = part["git_commit"]
    return found


def dirty_figures(path: Path) -> dict[str, str]:
    """The commits of ``path`` that were read from a tree with uncommitted changes."""
    return {k: v for k, v in commits_of(json.loads(path.read_text())).items() if str(v).endswith("-dirty")}


def list_steps() -> None:
    times = json.loads(TIMES.read_text()) if TIMES.is_file() else {}
    for name, step in STEPS.items():
        print(f"{name}: {step.command}")
        for written in step.writes:
            path = RESULTS / written
            if path.suffix == ".json" and path.is_file():
                dirty = dirty_figures(path)
                commit = json.loads(path.read_text()).get("git_commit", "?")[:10]
                state = f"{len(dirty)} -dirty (e.g. {next(iter(dirty))})" if dirty else "clean"
                print(f"    {written}: commit {commit}, {state}")
        timed = times.get(name)
        here = f"{timed['wall_s'] / 60:.1f} min at {timed['git_commit'][:10]}" if timed else "not yet timed"
        print(f"    wall time here: {here}; GPU: {step.gpu}" + (f"; {step.note}" if step.note else ""))


def git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def refuse_uncommitted_code() -> None:
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "xdomain_nlp", "recipes", "benchmarks")
    code = [line for line in changed.splitlines() if not line[3:].startswith("benchmarks/results/")]
    if code:
        sys.exit(
            "reproduce: this checkout has uncommitted code, and a run measures a commit:\n  "
            + "\n  ".join(code)
            + "\ncommit it (or stash it) first"
        )


def plan(names: list[str], runs: Path) -> list[str]:
    """The named steps after the steps they need, skipping models already in ``runs``."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        step = STEPS[name]
        for needed in step.needs:
            visit(needed)
        if step.makes and (runs / step.makes).exists() and name not in names:
            return
        order.append(name)

    for name in names:
        visit(name)
    return order


def run_steps(names: list[str], commit: str, runs: Path, extra: list[str]) -> None:
    sha = git("rev-parse", "--verify", f"{commit}^{{commit}}")
    runs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"reproduce-{sha[:10]}-"))
    git("worktree", "add", "--detach", str(work), sha)
    times = json.loads(TIMES.read_text()) if TIMES.is_file() else {}
    env = {**os.environ, "PYTHONPATH": str(work)}  # the worktree's package, not this checkout's
    try:
        for name in plan(names, runs):
            step = STEPS[name]
            command = step.command.format(runs=runs, commit=sha, bundle=REPO / ".gpu_check")
            command += "" if step.makes else " " + " ".join(extra)
            print(f"reproduce: {name} at {sha[:10]}: {command}", flush=True)
            start = time.perf_counter()
            subprocess.run(command, shell=True, cwd=work, env=env, check=True)
            wall = time.perf_counter() - start
            for written in step.writes:
                shutil.copy2(work / "benchmarks" / "results" / written, RESULTS / written)
            # The next step must measure the commit, not a tree this step's results made dirty.
            subprocess.run(["git", "checkout", "-q", sha, "--", "benchmarks/results"], cwd=work, check=True)
            times[name] = {"git_commit": sha, "wall_s": round(wall, 1), "command": command}
            TIMES.write_text(json.dumps(times, indent=2, sort_keys=True) + "\n")
            print(f"reproduce: {name} done in {wall / 60:.1f} min; wrote {', '.join(step.writes) or runs}")
    finally:
        git("worktree", "remove", "--force", str(work))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="every results file, its command, commit and wall time")
    run = sub.add_parser("run", help="run benchmarks from a clean worktree of a commit")
    run.add_argument("names", nargs="+", choices=sorted(STEPS), metavar="NAME", help="steps, as `list` names them")
    run.add_argument("--commit", default="HEAD", help="the commit to measure (default: HEAD)")
    run.add_argument("--runs", type=Path, default=REPO / "runs", help="where trained models are kept between steps")
    run.add_argument("--extra", default="", help="arguments added to each benchmark's command (e.g. --carry-over)")
    args = parser.parse_args()
    if args.action == "list":
        list_steps()
        return
    refuse_uncommitted_code()
    run_steps(args.names, args.commit, args.runs.resolve(), args.extra.split())


if __name__ == "__main__":
    main()
