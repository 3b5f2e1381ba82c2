"""Gradient reversal and the DANN classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xdomain_nlp.shift.adversarial import DANNClassifier, grad_reverse


def test_gradient_reversal_flips_and_scales_the_gradient():
    x = torch.ones(3, requires_grad=True)
    (grad_reverse(x, 0.5) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [-0.5, -1.0, -1.5]
    assert grad_reverse(torch.tensor([2.0]), 3.0).item() == 2.0  # forward is the identity


def test_dann_learns_the_task_and_confuses_the_domain_classifier():
    rng = np.random.default_rng(0)
    # The label lives in dimension 0; the domains differ by an offset in dimension 1.
    ys = rng.integers(0, 2, 600)
    xs = np.c_[ys * 2 - 1 + 0.3 * rng.normal(size=600), rng.normal(size=600), rng.normal(size=(600, 4))]
    yt = rng.integers(0, 2, 400)
    xt = np.c_[yt * 2 - 1 + 0.3 * rng.normal(size=400), 3 + rng.normal(size=400), rng.normal(size=(400, 4))]
    plain = DANNClassifier(adversarial=0.0, epochs=40, hidden=32).fit(xs, ys, xt)
    dann = DANNClassifier(adversarial=1.0, epochs=40, hidden=32).fit(xs, ys, xt)
    assert (plain.predict(xt) == yt).mean() > 0.9 and (dann.predict(xt) == yt).mean() > 0.9
    assert plain.domain_accuracy_ == []  # no domain loss without the adversary
    first, last = dann.domain_accuracy_[0], dann.domain_accuracy_[-1]
    assert first > 0.7 and last < 0.65 and last < first - 0.1  # the features stop giving the domain away
    with pytest.raises(ValueError, match="disagree"):
        DANNClassifier().fit(xs, ys[:10], xt)
