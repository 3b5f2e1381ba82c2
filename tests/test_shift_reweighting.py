"""Re-weighting estimators on data whose true density ratio is known: two Gaussians."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import spearmanr

from xdomain_nlp.shift import KLIEP, KMM, DomainClassifierWeights
from xdomain_nlp.shift.box_qp import project_box_slab, solve_box_slab_qp
from xdomain_nlp.shift.reweighting import rbf_kernel

MU = np.array([0.8, -0.4])


def gaussians(n_source: int = 400, n_target: int = 300, seed: int = 0):
    """Source N(0, I), target N(MU, I) in 2-D: the true ratio is exp(MU.x - |MU|^2 / 2)."""
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n_source, 2))
    xt = rng.normal(size=(n_target, 2)) + MU
    true = np.exp(xs @ MU - MU @ MU / 2)
    return xs, xt, true / true.mean()


@pytest.mark.parametrize(
    "estimator",
    [DomainClassifierWeights(), KMM(), KLIEP(n_centers=100)],
    ids=["domain-classifier", "kmm", "kliep"],
)
def test_weights_follow_the_true_density_ratio(estimator):
    xs, xt, true = gaussians()
    w = estimator.fit(xs, xt).weights_
    assert w.shape == (len(xs),) and (w >= 0).all()
    assert w.mean() == pytest.approx(1.0)
    assert spearmanr(w, true).statistic > 0.85
    # Importance-weighted source mean estimates the target mean (the point of re-weighting).
    weighted_mean = (w[:, None] * xs).sum(0) / w.sum()
    assert np.abs(weighted_mean - MU).max() < 0.25
    assert np.abs(xs.mean(0) - MU).max() > 0.6  # ...which the unweighted mean does not
    assert 1 < estimator.effective_sample_size_ < len(xs)


def test_no_shift_gives_flat_weights():
    rng = np.random.default_rng(1)
    xs, xt = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    est = DomainClassifierWeights().fit(xs, xt)
    assert est.auc_ < 0.6
    assert est.effective_sample_size_ > 0.9 * len(xs)


def test_clipping_caps_weights_and_keeps_mean_one():
    xs, xt, _ = gaussians()
    est = DomainClassifierWeights(clip=3.0).fit(xs, xt)
    assert est.weights_.max() <= 3.0 + 1e-9
    assert est.weights_.mean() == pytest.approx(1.0)
    unclipped = DomainClassifierWeights().fit(xs, xt)
    assert unclipped.weights_.max() > 3.0
    assert est.effective_sample_size_ > unclipped.effective_sample_size_


def test_kmm_solves_its_quadratic_program():
    """Our solver reaches the optimum a general constrained solver finds, and respects the constraints."""
    xs, xt, _ = gaussians(60, 50, seed=3)
    n_s, gamma, B, eps = len(xs), 0.5, 5.0, 0.05
    K = rbf_kernel(xs, xs, gamma) + 0.1 * np.eye(n_s)
    kappa = n_s / len(xt) * rbf_kernel(xs, xt, gamma).sum(1)
    lo, hi = n_s * (1 - eps), n_s * (1 + eps)
    ours, _, converged = solve_box_slab_qp(K, kappa, B, lo, hi, max_iter=20000, tol=1e-10)
    assert converged
    assert ours.min() >= 0 and ours.max() <= B + 1e-9 and lo - 1e-6 <= ours.sum() <= hi + 1e-6
    f = lambda b: 0.5 * b @ K @ b - kappa @ b
    ref = minimize(
        f,
        np.ones(n_s),
        jac=lambda b: K @ b - kappa,
        bounds=[(0, B)] * n_s,
        constraints=[{"type": "ineq", "fun": lambda b: b.sum() - lo}, {"type": "ineq", "fun": lambda b: hi - b.sum()}],
        method="SLSQP",
        options={"maxiter": 1000, "ftol": 1e-12},
    )
    assert f(ours) <= ref.fun + 1e-4 * abs(ref.fun)


def test_projection_lands_in_the_set_and_is_nearest():
    rng = np.random.default_rng(0)
    v = rng.normal(size=50) * 3
    p = project_box_slab(v, 2.0, 10.0, 12.0)
    assert p.min() >= 0 and p.max() <= 2.0 and 10.0 - 1e-6 <= p.sum() <= 12.0 + 1e-6
    for _ in range(200):  # no feasible point is nearer to v
        q = project_box_slab(p + rng.normal(size=50) * 0.1, 2.0, 10.0, 12.0)
        assert np.linalg.norm(v - p) <= np.linalg.norm(v - q) + 1e-9


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="source: expected a non-empty 2-D array"):
        KMM().fit(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="target: contains NaN"):
        KLIEP().fit(np.zeros((5, 2)), np.full((5, 2), np.nan))
