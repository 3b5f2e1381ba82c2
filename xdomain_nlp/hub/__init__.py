"""Sharing adapted models: Hub downloads, publishing with model cards."""

from xdomain_nlp.hub.card import Evaluation, build_model_card, read_evaluations
from xdomain_nlp.hub.download import local_model_dir
from xdomain_nlp.hub.push import HubPushError, push_to_hub, stage_folder

__all__ = [
    "Evaluation",
    "HubPushError",
    "build_model_card",
    "local_model_dir",
    "push_to_hub",
    "read_evaluations",
    "stage_folder",
]
