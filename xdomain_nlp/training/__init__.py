"""Training building blocks: the one loop, checkpoints, configs, batching, metrics, run records.

Recipes build the model, the batches and the loss, and hand them to `fit`, the loop every
recipe shares (accumulation, clipping, checkpoints, exact resume, progress, trackers).
"""

from xdomain_nlp.devices import inference_dtype
from xdomain_nlp.training.accelerator import checkpoint_dir, make_accelerator, training_setup
from xdomain_nlp.training.averaging import WeightAverager
from xdomain_nlp.training.batching import (
    GPU_BATCH_TOKENS,
    loader_settings,
    lr_scale,
    make_optimizer,
    per_process_batch_size,
    per_process_batch_tokens,
    scaled_epochs,
    scheduler_steps,
    train_batches,
)
from xdomain_nlp.training.checkpoint import CheckpointDir, CheckpointError
from xdomain_nlp.training.config import ConfigError, RecipeConfig, load_config, parse_recipe_args, setting
from xdomain_nlp.training.epilogue import finish_run, fit_figures, remove_checkpoints, stopped_early
from xdomain_nlp.training.loop import FitResult, FitState, fit
from xdomain_nlp.training.losses import weighted_cross_entropy
from xdomain_nlp.training.metrics import (
    save_confusion_png,
    save_reliability_png,
    save_transfer_gap_png,
    span_report,
    tagging_report,
    transfer_pairs,
    write_json,
)
from xdomain_nlp.training.optim import layer_of, transfer_param_groups
from xdomain_nlp.training.precision import resolve_mixed_precision
from xdomain_nlp.training.record import run_record
from xdomain_nlp.training.sampler import (
    CyclingBatchSampler,
    LengthGroupedBatchSampler,
    PermutationBatchSampler,
    TokenBudgetBatchSampler,
    token_budget_batches,
)
from xdomain_nlp.training.single_process import SingleProcess

__all__ = [
    "finish_run",
    "fit_figures",
    "stopped_early",
    "GPU_BATCH_TOKENS",
    "TokenBudgetBatchSampler",
    "loader_settings",
    "lr_scale",
    "make_optimizer",
    "per_process_batch_tokens",
    "scaled_epochs",
    "scheduler_steps",
    "train_batches",
    "CheckpointDir",
    "CheckpointError",
    "ConfigError",
    "CyclingBatchSampler",
    "FitResult",
    "FitState",
    "LengthGroupedBatchSampler",
    "PermutationBatchSampler",
    "RecipeConfig",
    "SingleProcess",
    "WeightAverager",
    "checkpoint_dir",
    "fit",
    "inference_dtype",
    "layer_of",
    "load_config",
    "make_accelerator",
    "parse_recipe_args",
    "per_process_batch_size",
    "remove_checkpoints",
    "resolve_mixed_precision",
    "run_record",
    "save_confusion_png",
    "save_reliability_png",
    "save_transfer_gap_png",
    "transfer_pairs",
    "setting",
    "span_report",
    "tagging_report",
    "token_budget_batches",
    "training_setup",
    "transfer_param_groups",
    "weighted_cross_entropy",
    "write_json",
]
