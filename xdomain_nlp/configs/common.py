"""Settings every training recipe shares, under the same names everywhere."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from xdomain_nlp.training.config import RecipeConfig, setting
from xdomain_nlp.training.precision import MIXED_PRECISION

TRACKERS = ("", "tensorboard", "wandb", "mlflow", "comet_ml", "aim", "clearml", "dvclive")
INFER_PRECISION = ("auto", "bf16", "fp32", "no")


def output_dir_problems(output_dir: str) -> list[str]:
    """What stops a run from writing ``output_dir``, found before anything is loaded or trained."""
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        return [f"output_dir = {output_dir}: a file, not a folder; give a folder to write the run into"]
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        return [f"output_dir = {output_dir}: not writable"]
    return []


@dataclass
class TrainingConfig(RecipeConfig):
    output_dir: str = "${runs}/run"
    seed: int = 0
    mixed_precision: str = setting("auto", choices=MIXED_PRECISION)
    gradient_accumulation_steps: int = setting(1, minimum=1)  # 1 follows accelerate launch's flag
    global_batch_size: int = setting(0, minimum=0)  # per optimizer step, all processes (0 = batch_size per process)
    # Pieces per batch and process instead of batch_size sentences; auto: batch_size on a CPU, a
    # GPU-sized budget on a GPU (learning rates scaled by sqrt(sentences per batch / batch_size)).
    batch_tokens: int | str = setting("auto", minimum=0)
    global_batch_tokens: int = setting(0, minimum=0)  # per optimizer step, all processes (0 = batch_tokens)
    compile: bool = False  # torch.compile the model for training (GPU only)
    log_every: int = setting(25, minimum=1)  # optimizer steps between reads of the loss (bar, trackers, curve)
    max_grad_norm: float = setting(1.0, minimum=0.0)  # 0 = no clipping
    checkpoint_every: int = setting(0, minimum=0)  # optimizer steps between checkpoints (0 = epoch ends only)
    keep_checkpoints: int = setting(0, minimum=0)  # newest kept, also after the run (0 = 1 while training, none after)
    stop_after_steps: int = setting(0, minimum=0)  # stop as if killed after N steps (resume tests)
    log_with: str = setting("", choices=TRACKERS)  # an accelerate tracker ("" = none)

    def check(self) -> list[str]:
        problems = output_dir_problems(self.output_dir)
        if isinstance(self.batch_tokens, str) and self.batch_tokens != "auto":
            problems.append(f"batch_tokens = {self.batch_tokens!r}: a number of pieces, 0 (batch_size) or auto")
        max_length, overlap = getattr(self, "max_length", None), getattr(self, "window_overlap", None)
        if max_length is not None and overlap is not None and not 0 <= overlap < max_length:
            problems.append(f"window_overlap = {overlap}: must be at least 0 and below max_length = {max_length}")
        return problems
