"""How long ``xdomain-nlp --help`` and ``--version`` take in a fresh process, and what they import.

Each command runs ``--rounds`` times as a new process (the installed console script); the median
wall time is kept, and a separate process lists which heavy modules the help path imports.

    python benchmarks/cli_startup.py            # writes benchmarks/results/cli_startup.json
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from xdomain_nlp.training import run_record, write_json

OUT = Path(__file__).parent / "results" / "cli_startup.json"
HEAVY = ("torch", "transformers", "datasets", "spacy", "accelerate")


def seconds(command: list[str], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    cli = shutil.which("xdomain-nlp") or sys.exit("xdomain-nlp is not on PATH: pip install -e . first")
    probe = (
        "import sys\nfrom xdomain_nlp.cli import build_parser\nbuild_parser().format_help()\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    imported = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    result = {
        "help_seconds": seconds([cli, "--help"], args.rounds),
        "version_seconds": seconds([cli, "--version"], args.rounds),
        "tag_help_seconds": seconds([cli, "tag", "--help"], args.rounds),
        "heavy_modules_imported_by_help": [m for m in imported.strip().split(",") if m],
        "rounds": args.rounds,
        "target": "under 1 s (issue 34)",
        **run_record("python benchmarks/cli_startup.py"),
    }
    print({k: v for k, v in result.items() if k.endswith("seconds") or k.startswith("heavy")})
    write_json(result, args.out)


if __name__ == "__main__":
    main()
