"""Training building blocks: batching, parameter groups, configs, metrics, run records.

The loop itself lives in each recipe, in the open, as in accelerate's examples.
"""

from xdomain_nlp.training.averaging import WeightAverager
from xdomain_nlp.training.config import ConfigError, load_config, parse_recipe_args
from xdomain_nlp.training.metrics import save_confusion_png, span_report, tagging_report, write_json
from xdomain_nlp.training.optim import layer_of, transfer_param_groups
from xdomain_nlp.training.precision import inference_dtype
from xdomain_nlp.training.record import run_record
from xdomain_nlp.training.sampler import LengthGroupedBatchSampler, token_budget_batches

__all__ = [
    "ConfigError",
    "LengthGroupedBatchSampler",
    "WeightAverager",
    "inference_dtype",
    "layer_of",
    "load_config",
    "parse_recipe_args",
    "run_record",
    "save_confusion_png",
    "span_report",
    "tagging_report",
    "token_budget_batches",
    "transfer_param_groups",
    "write_json",
]
