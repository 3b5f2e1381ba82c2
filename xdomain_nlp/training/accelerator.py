"""The ``Accelerator`` a recipe runs under, built from its config the same way in every recipe."""

from __future__ import annotations

import atexit
import dataclasses
import os
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import (
    DataLoaderConfiguration,
    DistributedDataParallelKwargs,
    TorchDynamoPlugin,
    parse_flag_from_env,
)

from xdomain_nlp.errors import InputError
from xdomain_nlp.training.batching import per_process_batch_size, per_process_batch_tokens
from xdomain_nlp.training.checkpoint import CheckpointDir, run_identity
from xdomain_nlp.training.config import RecipeConfig
from xdomain_nlp.training.launcher import LaunchRequest, launch_request, warn
from xdomain_nlp.training.precision import resolve_mixed_precision
from xdomain_nlp.training.run_lock import RunLock


def make_accelerator(cfg: Any, *, find_unused_parameters: bool = False) -> Accelerator:
    """Mixed precision, accumulation, trackers and the project folder from a recipe config.

    What ``accelerate launch`` was told wins over the config's defaults (``mixed_precision: auto``,
    ``gradient_accumulation_steps: 1``); a config that names another value keeps it, with a
    one-line warning. ``find_unused_parameters``: DDP must expect parameters that get no gradient
    in some steps (a frozen encoder while a head trains alone).
    """
    request = launch_request()
    precision, accumulation = launch_settings(cfg, request)
    handlers = [DistributedDataParallelKwargs(find_unused_parameters=True)] if find_unused_parameters else []
    # Decided before the Accelerator exists: asking accelerate's state earlier would settle it too soon.
    cuda = torch.cuda.is_available() and not parse_flag_from_env("ACCELERATE_USE_CPU")
    compile_on_cuda = getattr(cfg, "compile", False) and cuda
    try:
        accelerator = Accelerator(
            mixed_precision=precision,
            gradient_accumulation_steps=accumulation,
            project_dir=cfg.output_dir,
            log_with=cfg.log_with or None,
            kwargs_handlers=handlers,
            # Batches from pinned memory are copied while the GPU works (see loader_settings).
            dataloader_config=DataLoaderConfiguration(non_blocking=cuda),
            dynamo_plugin=TorchDynamoPlugin(backend="inductor", dynamic=True) if compile_on_cuda else None,
        )
    except ValueError as error:  # accelerate keeps a process's first precision for the whole process
        if "already been initialized" not in str(error):
            raise
        raise InputError(
            f"this process already trained with another mixed precision; mixed_precision={cfg.mixed_precision} "
            f"({precision}) needs a new process (run the recipe again from the command line)"
        ) from error
    if getattr(cfg, "compile", False) and not compile_on_cuda:
        warn("compile: true compiles on a GPU only (on a CPU it measured no faster); training uncompiled")
    if request and request.num_processes and request.num_processes > accelerator.num_processes:
        warn(
            f"accelerate launch asked for {request.num_processes} processes and this run has "
            f"{accelerator.num_processes} (--cpu starts one); for CPU processes use "
            f"ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes {request.num_processes}"
        )
    if isinstance(cfg, RecipeConfig) and accelerator.is_main_process:  # a recipe's run owns its output_dir
        lock = RunLock(cfg.output_dir).acquire()
        atexit.register(lock.release)
    if cfg.log_with:
        flat = {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in dataclasses.asdict(cfg).items()}
        accelerator.init_trackers(Path(cfg.output_dir).name or "run", config=flat)
    return accelerator


def launch_settings(cfg: Any, request: LaunchRequest | None) -> tuple[str, int]:
    """The mixed precision and accumulation a run uses: the launcher's, unless the config names its own.

    ``ACCELERATE_MIXED_PRECISION`` set outside ``accelerate launch`` counts as the launcher's: one
    precision for every run in a process (accelerate keeps a process's first one).
    """
    precision = resolve_mixed_precision(cfg.mixed_precision)
    launcher_precision = request.mixed_precision if request else None
    exported = os.environ.get("ACCELERATE_MIXED_PRECISION")
    # `accelerate launch` always exports it ("no" when not asked, e.g. from `accelerate config`);
    # outside the launcher it is set only on purpose, and "no" then means fp32.
    if launcher_precision is None and exported and (exported != "no" or request is None):
        launcher_precision = exported
    if launcher_precision and launcher_precision != precision:
        if cfg.mixed_precision in ("auto", "native"):  # a setting that lets the machine choose: the launcher's wins
            precision = launcher_precision
        else:
            warn(
                f"accelerate launch asked for mixed precision {launcher_precision}; the config's "
                f"mixed_precision: {cfg.mixed_precision} ({precision}) is used (auto and native follow the launcher)"
            )
    accumulation = cfg.gradient_accumulation_steps
    launcher_steps = request.gradient_accumulation_steps if request else None
    if launcher_steps is None and os.environ.get("ACCELERATE_GRADIENT_ACCUMULATION_STEPS"):
        launcher_steps = int(os.environ["ACCELERATE_GRADIENT_ACCUMULATION_STEPS"])
    if launcher_steps and launcher_steps != accumulation:
        if accumulation == 1:
            accumulation = launcher_steps
        else:
            warn(
                f"accelerate launch asked for {launcher_steps} gradient accumulation steps; the config's "
                f"gradient_accumulation_steps: {accumulation} is used (1 follows the launcher)"
            )
    return precision, accumulation


def training_setup(cfg: Any, accelerator: Any) -> dict:
    """How a run was spread and batched, for its metrics: the same config gives the same global batch."""
    per_process = per_process_batch_size(cfg, accelerator)
    tokens = per_process_batch_tokens(cfg, accelerator)
    steps = getattr(accelerator, "gradient_accumulation_steps", 1)
    setup = {
        "world_size": accelerator.num_processes,
        "device": str(accelerator.device),
        "per_process_batch_size": per_process,
        "gradient_accumulation_steps": steps,
        "global_batch_size": per_process * accelerator.num_processes * steps,
        "mixed_precision": str(getattr(accelerator, "mixed_precision", "no")),
    }
    if tokens:  # batches of pieces: batch_size is only the reference of the learning rates
        setup |= {"per_process_batch_tokens": tokens, "global_batch_tokens": tokens * accelerator.num_processes * steps}
    return setup


def checkpoint_dir(cfg: Any, name: str = "") -> CheckpointDir:
    """Where one training run of a recipe keeps its checkpoints (``name`` tells several apart)."""
    root = Path(cfg.output_dir) / "checkpoints"
    return CheckpointDir(root / name if name else root, keep=max(1, cfg.keep_checkpoints), identity=run_identity(cfg))
