"""What every result JSON records: command, commit, versions and machine."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path


def _git_commit(cwd: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def run_record(command: str | None = None) -> dict:
    """Provenance of a run, to store beside its numbers."""
    import torch
    import transformers

    device = "cpu"  # the CPU is meant: the record says where the run ran
    if torch.cuda.is_available():
        device = torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "command": command or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "git_commit": _git_commit(Path(__file__).resolve().parent),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "machine": {
            "cpu": cpu,
            "cpu_cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "device": device,
        },
    }
