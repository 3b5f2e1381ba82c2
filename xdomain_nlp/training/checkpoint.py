"""Checkpoints that can be trusted: the newest one that loads is resumed, a damaged one is named.

A checkpoint is ``accelerator.save_state`` plus ``progress.json``, written last by the main
process: where the run was (epoch, batches, step), the settings that decide the run's result, and
the size of every file. A checkpoint without it was cut off while saving; one whose files are
missing, shorter or longer than recorded, or whose safetensors header does not parse, is damaged;
one holding a pickle the package did not write (only accelerate's random states are pickled, and
read back as weights only) could run code when loaded. All are skipped with a warning that names
the path and what is wrong, and the next older one is tried. A checkpoint made with other settings
(seed, model, data, schedule, batches, processes) is refused in one line that names the setting.
The package's own states (the weight averager) are written as safetensors and JSON, never pickled.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch

from xdomain_nlp.devices import CPU
from xdomain_nlp.errors import CHECKPOINTS_WRITTEN, InputError, XDomainError

PROGRESS = "progress.json"
ACCELERATE_PICKLES = re.compile(r"random_states_\d+\.pkl")  # accelerate reads these with weights_only=True
# Settings that do not change what a run trains (where it writes, what it scores, how it reports).
NOT_THE_RESULT = {
    "output_dir", "eval", "eval_limit", "eval_each_epoch", "eval_max_tokens", "convention_eval", "infer_precision",
    "log_with", "log_every", "keep_checkpoints", "checkpoint_every", "stop_after_steps", "compile", "ablate",
    "ablate_on", "seeds", "methods", "label_shift", "eval_every", "runs",
}  # fmt: skip


class CheckpointError(XDomainError, RuntimeError):
    """No checkpoint could be resumed safely."""


class CheckpointDir:
    """``root/step_N`` folders, newest kept (``keep`` of them), with `save` and `resume`.

    ``identity``: the settings that decide what the run trains (`run_identity`); a checkpoint whose
    recorded identity differs is refused on resume."""

    def __init__(self, root: str | Path, keep: int = 1, identity: dict[str, Any] | None = None) -> None:
        if keep < 1:
            raise InputError(f"keep_checkpoints must be at least 1, got {keep}")
        self.root = Path(root)
        self.keep = keep
        self.identity = identity or {}

    def steps(self) -> list[Path]:
        """Checkpoint folders, oldest first."""
        found = [p for p in self.root.glob("step_*") if p.is_dir() and p.name[5:].isdigit()]
        return sorted(found, key=lambda p: int(p.name[5:]))

    def save(self, accelerator: Any, state: dict, extras: dict[str, Any] | None = None) -> Path:
        """Save the run; ``extras`` are objects with ``state_dict`` (tensors and plain values) that the
        package writes itself, as safetensors and JSON."""
        path = self.root / f"step_{state['step']}"
        accelerator.save_state(str(path))
        accelerator.wait_for_everyone()  # every process has written its random states
        if accelerator.is_main_process:
            for name, obj in (extras or {}).items():
                write_state(obj.state_dict(), path / name)
            files = {f.name: f.stat().st_size for f in sorted(path.iterdir()) if f.is_file() and f.name != PROGRESS}
            identity = {**self.identity, **machine_identity(accelerator)}
            (path / PROGRESS).write_text(json.dumps({"state": state, "identity": identity, "files": files}))
            CHECKPOINTS_WRITTEN.append(path)  # named if the run is interrupted
            for old in self.steps()[: -self.keep]:
                shutil.rmtree(old)
        accelerator.wait_for_everyone()
        return path

    def resume(self, accelerator: Any, extras: dict[str, Any] | None = None) -> tuple[Path, dict] | None:
        """Load the newest checkpoint that loads; ``(path, state)``, or None to start afresh."""
        half_loaded = []
        for path in reversed(self.steps()):
            problem = damage(path)
            if problem is None:
                self.check_identity(path, accelerator)
                rng_problem = random_state_problem(path, accelerator.process_index)
                try:
                    accelerator.load_state(str(path))
                    for name, obj in (extras or {}).items():
                        obj.load_state_dict(read_state(path / name, accelerator.device))
                except Exception as error:  # noqa: BLE001 - any failure to load is reported and skipped
                    problem = f"{type(error).__name__}: {error}"
                    half_loaded.append(f"{path}: {problem}")
                else:
                    if rng_problem:
                        warnings.warn(
                            f"{path}: the random state could not be restored ({rng_problem}); the data order is still "
                            "exact (it follows seed and epoch), dropout masks will differ from an uninterrupted run",
                            stacklevel=2,
                        )
                    return path, json.loads((path / PROGRESS).read_text())["state"]
            warnings.warn(f"checkpoint {path} is skipped: {problem}", stacklevel=2)
        if half_loaded:  # a failed load may have changed some weights: training on them would be silent damage
            raise CheckpointError(
                "no checkpoint could be resumed, and loading one failed part-way: "
                + "; ".join(half_loaded)
                + f". Remove {self.root} to start afresh."
            )
        return None

    def check_identity(self, path: Path, accelerator: Any) -> None:
        """Refuse a checkpoint made with other result-deciding settings (none recorded: an older checkpoint)."""
        recorded = json.loads((path / PROGRESS).read_text()).get("identity")
        if not recorded:
            return
        current = {**self.identity, **machine_identity(accelerator)}
        differ = [k for k in sorted(set(recorded) | set(current)) if recorded.get(k) != current.get(k)]
        if differ:
            said = "; ".join(f"{k} was {recorded.get(k)!r}, now {current.get(k)!r}" for k in differ[:3])
            raise CheckpointError(
                f"{path} was made with other settings ({said}): resuming would not repeat that run. Run with its "
                f"settings, or give another output_dir (or remove {self.root}) to start afresh"
            )

    def clear(self) -> None:
        if self.root.is_dir():
            shutil.rmtree(self.root)


def run_identity(cfg: Any) -> dict[str, Any]:
    """The settings of a recipe config that decide what it trains (every one but `NOT_THE_RESULT`)."""
    values = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(vars(cfg))
    return {k: v for k, v in values.items() if k not in NOT_THE_RESULT}


def machine_identity(accelerator: Any) -> dict[str, Any]:
    """What of the machine decides the batches and the arithmetic: processes, accumulation, precision, device."""
    return {
        "world_size": accelerator.num_processes,
        "gradient_accumulation_steps": getattr(accelerator, "gradient_accumulation_steps", 1),
        "mixed_precision": str(getattr(accelerator, "mixed_precision", "no")),
        "device_type": torch.device(accelerator.device).type,
    }


def write_state(state: dict[str, Any], stem: Path) -> None:
    """``stem.safetensors`` (the tensors of a nested state) and ``stem.json`` (the rest), keys joined by '/'."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            tensors[prefix] = value.detach().contiguous().to(CPU)  # a file is written from host memory
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}/{key}" if prefix else str(key), item)
        else:
            plain[prefix] = value

    walk("", state)
    save_file(tensors, str(stem.with_suffix(".safetensors")))
    stem.with_suffix(".json").write_text(json.dumps(plain))


def read_state(stem: Path, device: Any) -> dict[str, Any]:
    """The nested state `write_state` wrote, tensors on ``device``."""
    from safetensors.torch import load_file

    flat = {**json.loads(stem.with_suffix(".json").read_text()), **load_file(str(stem.with_suffix(".safetensors")),
                                                                              device=str(device))}  # fmt: skip
    state: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, last = key.split("/")
        node = state
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return state


def random_state_problem(path: Path, process_index: int) -> str | None:
    """Why this process's random state in a checkpoint cannot be read (None when it can)."""
    from accelerate.utils import load

    file = path / f"random_states_{process_index}.pkl"
    if not file.is_file():
        return f"no {file.name}"
    try:
        load(file)
    except Exception as error:  # noqa: BLE001 - any reason is reported as it is
        return f"{file.name}: {type(error).__name__}"
    return None


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
    for file in path.iterdir():
        if file.suffix == ".pkl" and not ACCELERATE_PICKLES.fullmatch(file.name):
            return f"{file.name} is a pickle the package never writes (loading it could run code)"
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
