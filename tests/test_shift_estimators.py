"""The scikit-learn contract of the shift estimators: clone, pickle, fitted checks, sample weights."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from xdomain_nlp.shift import (
    BBSE,
    KLIEP,
    KMM,
    BiasCorrectedTemperatureScaling,
    DANNClassifier,
    DomainClassifierWeights,
    EMLabelShift,
)


def two_sides(seed: int = 0, n_source: int = 120, n_target: int = 80):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_source, 3)), rng.normal(size=(n_target, 3)) + [0.7, -0.3, 0.0]


RATIO_ESTIMATORS = [
    DomainClassifierWeights(C=0.5, clip=5.0, random_state=3),
    KMM(ridge=0.5, clip=8.0, random_state=3),
    KLIEP(n_centers=30, max_iter=300, random_state=3),
]


@pytest.mark.parametrize("estimator", RATIO_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_a_clone_fits_to_the_same_weights(estimator):
    xs, xt = two_sides()
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params() and copy is not estimator
    np.testing.assert_array_equal(copy.fit(xs, xt).weights_, clone(estimator).fit(xs, xt).weights_)


@pytest.mark.parametrize("estimator", RATIO_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_a_pickled_estimator_gives_the_same_answers(estimator):
    xs, xt = two_sides()
    fitted = clone(estimator).fit(xs, xt)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.weights_, fitted.weights_)
    if hasattr(fitted, "predict_ratio"):
        np.testing.assert_array_equal(again.predict_ratio(xt), fitted.predict_ratio(xt))


def test_parameters_are_keyword_only_and_stored_as_given():
    with pytest.raises(TypeError):
        KMM(3.0)  # was silently the kernel width
    kmm = KMM(gamma=None, clip=0.5)  # nothing is checked or changed until fit
    assert kmm.get_params()["clip"] == 0.5 and kmm.set_params(B=10.0).B == 10.0
    with pytest.raises(ValueError, match="KMM: clip=0.5: weights of mean 1 cannot all be capped below 1"):
        kmm.fit(*two_sides())
    with pytest.raises(ValueError, match="KLIEP: n_centers must be positive, got 0"):
        KLIEP(n_centers=0).fit(*two_sides())
    with pytest.raises(ValueError, match="DomainClassifierWeights: folds=1 needs an integer from 2"):
        DomainClassifierWeights(folds=1).fit(*two_sides())


def test_using_an_unfitted_estimator_says_so():
    xs, _ = two_sides()
    for call in (
        lambda: DomainClassifierWeights().predict_ratio(xs),
        lambda: KLIEP().predict_ratio(xs),
        lambda: EMLabelShift([0.5, 0.5]).adjust(np.full((2, 2), 0.5)),
        lambda: BBSE().adjust(np.full((2, 2), 0.5)),
        lambda: BiasCorrectedTemperatureScaling().transform(np.zeros((2, 2))),
        lambda: DANNClassifier().predict(xs),
    ):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call()


def repeated(counts: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    return [np.repeat(a, counts, axis=0) for a in arrays]


def test_integer_sample_weights_equal_repeated_rows():
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 4, size=60)
    counts[0] = 1  # not all zero
    logits = rng.normal(size=(60, 3)) * 2
    labels = (logits + rng.normal(size=(60, 3))).argmax(1)
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)

    weighted = EMLabelShift([0.2, 0.3, 0.5]).fit(probs, sample_weight=counts)
    rows = EMLabelShift([0.2, 0.3, 0.5]).fit(*repeated(counts, probs))
    np.testing.assert_allclose(weighted.priors_, rows.priors_, atol=1e-10)

    pred = logits.argmax(1)
    target_pred = rng.integers(0, 3, size=40)
    target_counts = rng.integers(1, 3, size=40)
    weighted = BBSE().fit(pred, labels, target_pred, sample_weight=counts, target_weight=target_counts)
    rows = BBSE().fit(*repeated(counts, pred, labels), *repeated(target_counts, target_pred))
    np.testing.assert_allclose(weighted.priors_, rows.priors_, atol=1e-12)

    weighted = BiasCorrectedTemperatureScaling().fit(logits, labels, sample_weight=counts)
    rows = BiasCorrectedTemperatureScaling().fit(*repeated(counts, logits, labels))
    np.testing.assert_allclose(weighted.transform(logits), rows.transform(logits), atol=1e-4)

    xs, xt = two_sides()
    target_counts = rng.integers(1, 4, size=len(xt))
    weighted = KMM(gamma=0.3).fit(xs, xt, target_weight=target_counts)
    rows = KMM(gamma=0.3).fit(xs, *repeated(target_counts, xt))
    np.testing.assert_allclose(weighted.weights_, rows.weights_, rtol=1e-6)


def test_sample_weights_are_checked():
    with pytest.raises(ValueError, match="sample_weight: expected 2 weights, one per row, got shape"):
        EMLabelShift([0.5, 0.5]).fit(np.full((2, 2), 0.5), sample_weight=[1.0])
    with pytest.raises(ValueError, match="target_weight: weights must be finite, non-negative and not all zero"):
        KMM().fit(*two_sides(), target_weight=-np.ones(80))


def test_dann_draws_from_its_own_generator():
    xs, xt = two_sides()
    ys = (xs[:, 0] > 0).astype(int)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = DANNClassifier(hidden=8, epochs=2, random_state=5).fit(xs, ys, xt).predict_proba(xt)
    assert torch.equal(torch.get_rng_state(), before)  # the caller's generator is untouched
    torch.manual_seed(999)  # and the fit does not depend on it
    second = clone(DANNClassifier(hidden=8, epochs=2, random_state=5)).fit(xs, ys, xt).predict_proba(xt)
    np.testing.assert_array_equal(first, second)
