"""Measure the README's test command: wall time of the whole suite and its slowest tests.

    python benchmarks/suite_timing.py

Runs ``python -m pytest -q -ra`` once (as `.ci/run` does, after ``ruff check .``), with a JUnit
report for the per-test times, and writes benchmarks/results/tests.json: ``suite_wall_s``, the
number of tests, the 25 slowest (setup included, which is where the shared fixtures train), and
the machine. A test never times anything; this script does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from xdomain_nlp.training import run_record

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", f"--junitxml={report}"],
            cwd=REPO,
        )
        wall = time.perf_counter() - start
        cases = ET.parse(report).getroot().iter("testcase")
        times = sorted(
            ((f"{c.get('classname')}::{c.get('name')}", float(c.get("time", 0))) for c in cases),
            key=lambda item: -item[1],
        )
    result = {
        "suite_wall_s": round(wall, 1),
        "passed": done.returncode == 0,
        "tests": len(times),
        "slowest": [{"test": name, "seconds": round(t, 1)} for name, t in times[:25]],
        **run_record("python benchmarks/suite_timing.py"),
    }
    out = REPO / "benchmarks/results/tests.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("suite_wall_s", "passed", "tests")}))
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
