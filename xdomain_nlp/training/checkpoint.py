"""Checkpoints that can be trusted: the newest one that loads is resumed, a damaged one is named.

A checkpoint is ``accelerator.save_state`` plus ``progress.json``, written last by the main
process: where the run was (epoch, batches, step) and the size of every file. A checkpoint
without it was cut off while saving; one whose files are missing, shorter or longer than
recorded, or whose safetensors header does not parse, is damaged. Both are skipped with a
warning that names the path and what is wrong, and the next older one is tried.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

from xdomain_nlp.errors import XDomainError

PROGRESS = "progress.json"


class CheckpointError(XDomainError, RuntimeError):
    """No checkpoint could be resumed safely."""


class CheckpointDir:
    """``root/step_N`` folders, newest kept (``keep`` of them), with `save` and `resume`."""

    def __init__(self, root: str | Path, keep: int = 1) -> None:
        if keep < 1:
            raise ValueError(f"keep_checkpoints must be at least 1, got {keep}")
        self.root = Path(root)
        self.keep = keep

    def steps(self) -> list[Path]:
        """Checkpoint folders, oldest first."""
        found = [p for p in self.root.glob("step_*") if p.is_dir() and p.name[5:].isdigit()]
        return sorted(found, key=lambda p: int(p.name[5:]))

    def save(self, accelerator: Any, state: dict) -> Path:
        path = self.root / f"step_{state['step']}"
        accelerator.save_state(str(path))
        accelerator.wait_for_everyone()  # every process has written its random states
        if accelerator.is_main_process:
            files = {f.name: f.stat().st_size for f in sorted(path.iterdir()) if f.is_file() and f.name != PROGRESS}
            (path / PROGRESS).write_text(json.dumps({"state": state, "files": files}))
            for old in self.steps()[: -self.keep]:
                shutil.rmtree(old)
        accelerator.wait_for_everyone()
        return path

    def resume(self, accelerator: Any) -> tuple[Path, dict] | None:
        """Load the newest checkpoint that loads; ``(path, state)``, or None to start afresh."""
        half_loaded = []
        for path in reversed(self.steps()):
            problem = damage(path)
            if problem is None:
                try:
                    accelerator.load_state(str(path))
                except Exception as error:  # noqa: BLE001 - any failure to load is reported and skipped
                    problem = f"{type(error).__name__}: {error}"
                    half_loaded.append(f"{path}: {problem}")
                else:
                    return path, json.loads((path / PROGRESS).read_text())["state"]
            warnings.warn(f"checkpoint {path} is skipped: {problem}", stacklevel=2)
        if half_loaded:  # a failed load may have changed some weights: training on them would be silent damage
            raise CheckpointError(
                "no checkpoint could be resumed, and loading one failed part-way: "
                + "; ".join(half_loaded)
                + f". Remove {self.root} to start afresh."
            )
        return None

    def clear(self) -> None:
        if self.root.is_dir():
            shutil.rmtree(self.root)


def damage(path: Path) -> str | None:
    """What is wrong with a checkpoint folder, or None when it looks whole."""
    progress = path / PROGRESS
    if not progress.is_file():
        return f"no {PROGRESS} (the save did not finish)"
    try:
        record = json.loads(progress.read_text())
        state, files = record["state"], record["files"]
        int(state["step"])
    except (ValueError, KeyError, TypeError) as error:
        return f"{progress} is unreadable ({error})"
    for name, size in files.items():
        file = path / name
        if not file.is_file():
            return f"{name} is missing"
        if file.stat().st_size != size:
            return f"{name} has {file.stat().st_size} bytes, {size} were written"
        if name.endswith(".safetensors"):
            problem = _safetensors_problem(file)
            if problem:
                return f"{name}: {problem}"
    return None


def _safetensors_problem(file: Path) -> str | None:
    from safetensors import safe_open

    try:
        with safe_open(str(file), framework="pt") as handle:
            handle.keys()
    except Exception as error:  # noqa: BLE001 - the message is what the user needs
        return str(error)
    return None
