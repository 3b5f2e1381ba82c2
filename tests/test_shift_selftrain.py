"""Pseudo-label selection and the L2-SP penalty."""

from __future__ import annotations

import torch
from torch import nn

from xdomain_nlp.shift.selftrain import IGNORE, L2SP, select_pseudo_labels


def test_global_threshold_keeps_confident_words_only():
    pred = [[0, 0, 1], [2, 0]]
    prob = [[0.99, 0.95, 0.5], [0.6, 0.97]]
    labels, summary = select_pseudo_labels(pred, prob, threshold=0.9, balance=False)
    assert labels == [[0, 0, IGNORE], [IGNORE, 0]]
    assert summary["kept"] == 3 and summary["kept_per_class"] == [3, 0, 0]


def test_balanced_selection_keeps_each_class_its_share():
    # Class 0 is easy (confident), classes 1 and 2 never pass 0.9: a global threshold starves them.
    pred = [[0] * 8 + [1] * 4 + [2] * 4]
    prob = [[0.99] * 8 + [0.8, 0.7, 0.6, 0.5] + [0.85, 0.4, 0.3, 0.2]]
    labels, summary = select_pseudo_labels(pred, prob, threshold=0.9, balance=True)
    kept = summary["kept_per_class"]
    assert kept[0] == 8 and kept[1] >= 2 and kept[2] >= 2
    assert labels[0][8] == 1 and labels[0][11] == IGNORE  # the most confident of a class first
    assert labels[0][12] == 2 and labels[0][15] == IGNORE


def test_l2sp_is_zero_at_the_source_and_grows_with_drift():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    reg = L2SP(model, alpha=0.5)
    assert reg.penalty(model).item() == 0.0
    with torch.no_grad():
        model[0].weight.add_(1.0)
    assert reg.penalty(model).item() == 0.5 * 0.5 * 9  # alpha/2 * ||delta||^2 over 9 weights
    model[0].weight.requires_grad_(False)  # frozen parameters are not penalised
    assert reg.penalty(model).item() == 0.0
