"""Label-shift estimators on synthetic shift with known priors and exact posteriors."""

from __future__ import annotations

import numpy as np
import pytest

from xdomain_nlp.shift.labelshift import BBSE, EMLabelShift, resample_to_priors

MEANS = np.array([[-1.0, 0.0], [1.0, 0.5], [0.0, 1.5]])


def sample(priors, n, rng):
    y = rng.choice(len(priors), n, p=priors)
    return rng.normal(size=(n, 2)) + MEANS[y], y


def posteriors(x, priors):
    """The exact Bayes posterior under ``priors`` (unit-variance Gaussians per class)."""
    log_lik = -0.5 * ((x[:, None, :] - MEANS[None]) ** 2).sum(-1)
    p = np.exp(log_lik) * priors
    return p / p.sum(1, keepdims=True)


@pytest.mark.parametrize("target", [[0.1, 0.3, 0.6], [0.8, 0.1, 0.1], [1 / 3, 1 / 3, 1 / 3]])
def test_em_and_bbse_recover_target_priors(target):
    rng = np.random.default_rng(0)
    source = np.array([1 / 3, 1 / 3, 1 / 3])
    xt, yt = sample(target, 5000, rng)
    probs = posteriors(xt, source)  # what a calibrated source-trained classifier outputs
    em = EMLabelShift(source).fit(probs)
    assert np.abs(em.priors_ - target).max() < 0.03
    xv, yv = sample(source, 5000, rng)
    bbse = BBSE().fit(posteriors(xv, source).argmax(1), yv, probs.argmax(1))
    assert np.abs(bbse.priors_ - target).max() < 0.04
    # Adjusted posteriors are the Bayes posteriors under the true target priors, so accuracy rises.
    before = (probs.argmax(1) == yt).mean()
    after = (em.adjust(probs).argmax(1) == yt).mean()
    assert after >= before - 0.005
    assert np.allclose(em.adjust(probs), posteriors(xt, em.priors_), atol=1e-9)


def test_ninety_ten_target_gains_accuracy():
    rng = np.random.default_rng(1)
    source, target = np.array([0.5, 0.5, 0.0 + 1e-9]), np.array([0.9, 0.1, 0.0])
    source = source / source.sum()
    xt, yt = sample(target, 4000, rng)
    probs = posteriors(xt, source)
    em = EMLabelShift(source).fit(probs)
    assert abs(em.priors_[0] - 0.9) < 0.03
    assert (em.adjust(probs).argmax(1) == yt).mean() > (probs.argmax(1) == yt).mean() + 0.01


def test_resample_to_priors():
    y = np.array([0] * 500 + [1] * 500)
    idx = resample_to_priors(y, [0.1, 0.9], seed=3)
    assert len(idx) == 555 and len(set(idx)) == len(idx)
    assert abs((y[idx] == 1).mean() - 0.9) < 0.002


def test_bad_probabilities_are_named():
    with pytest.raises(ValueError, match="target_probs: rows must be probability distributions"):
        EMLabelShift([0.5, 0.5]).fit(np.array([[0.5, 0.7]]))
    with pytest.raises(ValueError, match="source_priors must be positive"):
        EMLabelShift([1.0, 0.0]).fit(np.array([[0.5, 0.5]]))  # checked in fit, as scikit-learn does
