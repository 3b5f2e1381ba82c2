"""The ``Accelerator`` a recipe runs under, built from its config the same way in every recipe."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from accelerate import Accelerator
from accelerate.state import AcceleratorState, GradientState, PartialState
from accelerate.utils import DistributedDataParallelKwargs

from xdomain_nlp.training.checkpoint import CheckpointDir
from xdomain_nlp.training.precision import resolve_mixed_precision


def make_accelerator(cfg: Any, *, find_unused_parameters: bool = False) -> Accelerator:
    """Mixed precision, accumulation, trackers and the project folder from a recipe config.

    ``find_unused_parameters``: DDP must expect parameters that get no gradient in some steps
    (a frozen encoder while a head trains alone).
    """
    precision = resolve_mixed_precision(cfg.mixed_precision)
    _allow_new_settings()
    handlers = [DistributedDataParallelKwargs(find_unused_parameters=True)] if find_unused_parameters else []
    accelerator = Accelerator(
        mixed_precision=precision,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        project_dir=cfg.output_dir,
        log_with=cfg.log_with or None,
        kwargs_handlers=handlers,
    )
    if cfg.log_with:
        flat = {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in dataclasses.asdict(cfg).items()}
        accelerator.init_trackers(Path(cfg.output_dir).name or "run", config=flat)
    return accelerator


def checkpoint_dir(cfg: Any, name: str = "") -> CheckpointDir:
    """Where one training run of a recipe keeps its checkpoints (``name`` tells several apart)."""
    root = Path(cfg.output_dir) / "checkpoints"
    return CheckpointDir(root / name if name else root, keep=max(1, cfg.keep_checkpoints))


def _allow_new_settings() -> None:
    """Recipes called one after another in one process (tests, benchmarks) may ask for other
    settings; accelerate keeps its first ones for the whole process unless they are reset.
    Launched processes (several ranks) are never reset."""
    if PartialState._shared_state and PartialState().num_processes > 1:
        return
    if AcceleratorState._shared_state:
        AcceleratorState._reset_state(reset_partial_state=False)
    GradientState._reset_state()
