"""Instance re-weighting for frequency feature bias: P(X) differs, P(Y|X) does not.

Each estimator learns w(x) ~ p_target(x) / p_source(x) for the source examples, so that a
weighted source loss estimates the target loss. They are scikit-learn estimators (keyword-only
parameters stored as given, so ``clone``, ``get_params`` and grid search work; ``random_state``;
fitted attributes end in ``_``)::

    est = KMM(clip=10).fit(source_features, target_features)
    est.weights_                  # one weight per source example, mean 1
    est.effective_sample_size_    # (sum w)^2 / sum w^2: how many examples the weights are worth

Weights are normalised to mean 1 over the source and, with ``clip``, capped (then renormalised):
a few huge weights make the weighted loss as noisy as training on a handful of examples.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from xdomain_nlp.errors import InputError
from xdomain_nlp.shift.box_qp import solve_box_slab_qp


def rbf_kernel(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    return np.exp(-gamma * cdist(a, b, "sqeuclidean"))


def median_gamma(x: np.ndarray, max_points: int = 1000, seed: int | None = 0) -> float:
    """1 / (2 median^2) of pairwise distances: a kernel width on the data's own scale."""
    rng = np.random.default_rng(seed)
    if len(x) > max_points:
        x = x[rng.choice(len(x), max_points, replace=False)]
    d = cdist(x, x, "sqeuclidean")
    med = np.median(d[np.triu_indices_from(d, k=1)])
    return 1.0 / max(med, 1e-12)  # = 1 / (2 * sigma^2) with sigma^2 = median / 2


def clip_mean_one(w: np.ndarray, cap: float) -> np.ndarray:
    """min(s * w, cap) with the scale s chosen so the mean stays 1 (exact, by bisection on s)."""
    if cap < 1:
        raise InputError(f"clip={cap}: weights of mean 1 cannot all be capped below 1")
    if w.max() <= cap:
        return w
    lo, hi = 0.0, cap / w[w > 0].min()  # mean(min(s w, cap)) rises with s, reaching cap >= 1 at hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.minimum(mid * w, cap).mean() < 1:
            lo = mid
        else:
            hi = mid
    out = np.minimum(hi * w, cap)
    return out / out.mean() if out.mean() > 0 else out


def _as_2d(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or len(arr) == 0:
        raise InputError(f"{name}: expected a non-empty 2-D array (examples x features), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError(f"{name}: contains NaN or infinite values")
    return arr


def check_sample_weight(weight: ArrayLike | None, n: int, name: str) -> np.ndarray:
    """``weight`` as a float array of ``n`` non-negative values with a positive sum (ones when None)."""
    if weight is None:
        return np.ones(n)
    w = np.asarray(weight, dtype=np.float64)
    if w.shape != (n,):
        raise InputError(f"{name}: expected {n} weights, one per row, got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise InputError(f"{name}: weights must be finite, non-negative and not all zero")
    return w


def _positive(estimator: BaseEstimator, **values: float | None) -> None:
    for name, value in values.items():
        if value is not None and not value > 0:
            raise InputError(f"{type(estimator).__name__}: {name} must be positive, got {value!r}")


class DensityRatioEstimator(BaseEstimator):
    """Shared post-processing: mean-1 normalisation, clipping, effective sample size.

    Parameters are checked in `fit`, not in ``__init__`` (scikit-learn's rule: ``set_params``
    and ``clone`` must be able to set any value without running code)."""

    clip: float | None

    def _check_clip(self) -> None:
        if self.clip is not None and not self.clip >= 1:
            raise InputError(f"{type(self).__name__}: clip={self.clip}: weights of mean 1 cannot all be capped below 1")

    def _finish(self, raw: np.ndarray) -> None:
        w = np.maximum(np.asarray(raw, dtype=np.float64), 0.0)
        if w.sum() <= 0:
            raise InputError(f"{type(self).__name__}: all weights are zero; the domains may not overlap")
        w = w / w.mean()
        if self.clip is not None:
            w = clip_mean_one(w, self.clip)
        self.weights_ = w
        self.effective_sample_size_ = float(w.sum() ** 2 / (w**2).sum())

    def fit(self, source: ArrayLike, target: ArrayLike) -> DensityRatioEstimator:  # pragma: no cover
        raise NotImplementedError


class DomainClassifierWeights(DensityRatioEstimator):
    """w(x) = P(target | x) / P(source | x) * n_source / n_target from a probabilistic classifier.

    Source weights come from out-of-fold predictions (a classifier scoring its own training
    points is over-confident), and the fold AUC is kept: 0.5 means the domains look alike.
    """

    def __init__(
        self, *, C: float = 1.0, folds: int = 5, clip: float | None = None, random_state: int | None = 0
    ) -> None:
        self.C = C
        self.folds = folds
        self.clip = clip
        self.random_state = random_state

    def fit(self, source: ArrayLike, target: ArrayLike) -> DomainClassifierWeights:
        xs, xt = _as_2d(source, "source"), _as_2d(target, "target")
        _positive(self, C=self.C)
        self._check_clip()
        if not (isinstance(self.folds, int) and 2 <= self.folds <= min(len(xs), len(xt))):
            raise InputError(
                f"DomainClassifierWeights: folds={self.folds!r} needs an integer from 2 to the smaller side's size"
            )
        x = np.vstack([xs, xt])
        y = np.r_[np.zeros(len(xs)), np.ones(len(xt))]
        clf = LogisticRegression(C=self.C, max_iter=2000)
        cv = StratifiedKFold(self.folds, shuffle=True, random_state=self.random_state)
        p = cross_val_predict(clf, x, y, cv=cv, method="predict_proba")[:, 1]
        self.auc_ = float(roc_auc_score(y, p))
        self.classifier_ = clf.fit(x, y)
        self.size_ratio_ = len(xs) / len(xt)
        p_s = np.clip(p[: len(xs)], 1e-6, 1 - 1e-6)
        self._finish(p_s / (1 - p_s) * len(xs) / len(xt))
        self.n_features_in_ = xs.shape[1]
        return self

    def predict_ratio(self, x: ArrayLike) -> np.ndarray:
        """The (unnormalised) ratio for new points, from the classifier fit on all data."""
        check_is_fitted(self, "classifier_")
        p = np.clip(self.classifier_.predict_proba(_as_2d(x, "x"))[:, 1], 1e-6, 1 - 1e-6)
        return p / (1 - p) * self.size_ratio_


class KMM(DensityRatioEstimator):
    """Kernel mean matching (Huang et al. 2007), solved as the quadratic program it is:

        min_b  1/2 b'Kb - kappa'b   s.t.  0 <= b_i <= B,  |sum_i b_i - n_s| <= n_s * eps

    with K the source kernel matrix and kappa_i = n_s/n_t sum_j k(x_i, x'_j). Solved by
    accelerated projected gradient; the projection onto the box-and-slab set is exact (a
    bisection on one shift). Transductive: weights exist only for the points it was fit on.

    ``ridge`` adds ridge * I to K. Without it the optimum is sparse: it matches the target's
    kernel mean with a few dozen source points and gives the rest weight 0 (on two Gaussians,
    70% zeros and a rank correlation of 0.1 with the true ratio); ridge = 1 spreads the weight
    over all similar points (rank correlation 0.95) at a small cost in mean matching.
    ``random_state`` draws the points the median kernel width is taken on (above 1,000).
    """

    def __init__(
        self, *, gamma: float | None = None, B: float = 1000.0, eps: float | None = None, ridge: float = 1.0,
        max_iter: int = 5000, tol: float = 1e-7, clip: float | None = None, random_state: int | None = 0,
    ) -> None:  # fmt: skip
        self.gamma = gamma
        self.B = B
        self.eps = eps
        self.ridge = ridge
        self.max_iter = max_iter
        self.tol = tol
        self.clip = clip
        self.random_state = random_state

    def fit(self, source: ArrayLike, target: ArrayLike, *, target_weight: ArrayLike | None = None) -> KMM:
        """``target_weight``: how much each target row counts (an integer k is the row k times)."""
        xs, xt = _as_2d(source, "source"), _as_2d(target, "target")
        wt = check_sample_weight(target_weight, len(xt), "target_weight")
        _positive(self, gamma=self.gamma, B=self.B, eps=self.eps, tol=self.tol, max_iter=self.max_iter)
        if self.ridge < 0:
            raise InputError(f"KMM: ridge must be >= 0, got {self.ridge}")
        self._check_clip()
        n_s, n_t = len(xs), wt.sum()
        gamma = self.gamma or median_gamma(np.vstack([xs, xt]), seed=self.random_state)
        K = rbf_kernel(xs, xs, gamma) + self.ridge * np.eye(n_s)
        kappa = (n_s / n_t) * rbf_kernel(xs, xt, gamma) @ wt
        eps = self.eps if self.eps is not None else self.B / np.sqrt(n_s)
        lo, hi = n_s * (1 - eps), n_s * (1 + eps)
        beta, self.n_iter_, self.converged_ = solve_box_slab_qp(K, kappa, self.B, lo, hi, self.max_iter, self.tol)
        self.gamma_, self.objective_ = gamma, float(0.5 * beta @ K @ beta - kappa @ beta)
        self.beta_ = beta
        self._finish(beta)
        self.n_features_in_ = xs.shape[1]
        return self


class KLIEP(DensityRatioEstimator):
    """Kullback-Leibler importance estimation (Sugiyama et al. 2008).

    w(x) = sum_l alpha_l k(x, c_l) over kernel centres taken from the target; alpha maximises
    the target log-likelihood of w subject to mean_source w = 1 and alpha >= 0. The kernel width
    is chosen by likelihood cross-validation on the target when not given; ``random_state``
    draws the centres and the folds.
    """

    def __init__(
        self, *, gamma: float | None = None, n_centers: int = 100, max_iter: int = 2000, lr: float = 1e-3,
        folds: int = 5, clip: float | None = None, random_state: int | None = 0,
    ) -> None:  # fmt: skip
        self.gamma = gamma
        self.n_centers = n_centers
        self.max_iter = max_iter
        self.lr = lr
        self.folds = folds
        self.clip = clip
        self.random_state = random_state

    def _alpha(self, a: np.ndarray, b_mean: np.ndarray) -> np.ndarray:
        alpha = np.ones(a.shape[1])
        alpha /= b_mean @ alpha
        for _ in range(self.max_iter):
            previous = alpha
            alpha = alpha + self.lr * a.T @ (1.0 / np.maximum(a @ alpha, 1e-300))
            alpha = alpha + (1 - b_mean @ alpha) * b_mean / (b_mean @ b_mean)
            alpha = np.maximum(alpha, 0.0)
            alpha = alpha / max(b_mean @ alpha, 1e-300)
            if np.abs(alpha - previous).max() < 1e-9:
                break
        return alpha

    def fit(self, source: ArrayLike, target: ArrayLike) -> KLIEP:
        xs, xt = _as_2d(source, "source"), _as_2d(target, "target")
        _positive(self, gamma=self.gamma, n_centers=self.n_centers, max_iter=self.max_iter, lr=self.lr)
        self._check_clip()
        if self.gamma is None and not (isinstance(self.folds, int) and 2 <= self.folds <= len(xt)):
            raise InputError(f"KLIEP: folds={self.folds!r} needs an integer from 2 to the number of target rows")
        rng = np.random.default_rng(self.random_state)
        centers = xt[rng.choice(len(xt), min(self.n_centers, len(xt)), replace=False)]
        if self.gamma is not None:
            gamma = self.gamma
            self.cv_scores_ = {}
        else:  # likelihood cross-validation over widths around the median heuristic
            base = median_gamma(np.vstack([xs, xt]))
            folds = np.array_split(rng.permutation(len(xt)), self.folds)
            self.cv_scores_ = {}
            for factor in (0.1, 0.3, 1.0, 3.0, 10.0):
                g = base * factor
                b_mean_all = rbf_kernel(xs, centers, g).mean(0)
                scores = []
                for k in range(self.folds):
                    held = folds[k]
                    train = np.concatenate([folds[j] for j in range(self.folds) if j != k])
                    alpha = self._alpha(rbf_kernel(xt[train], centers, g), b_mean_all)
                    scores.append(np.log(np.maximum(rbf_kernel(xt[held], centers, g) @ alpha, 1e-300)).mean())
                self.cv_scores_[g] = float(np.mean(scores))
            gamma = max(self.cv_scores_, key=self.cv_scores_.get)
        self.gamma_, self.centers_ = gamma, centers
        self.alpha_ = self._alpha(rbf_kernel(xt, centers, gamma), rbf_kernel(xs, centers, gamma).mean(0))
        self._finish(rbf_kernel(xs, centers, gamma) @ self.alpha_)
        self.n_features_in_ = xs.shape[1]
        return self

    def predict_ratio(self, x: ArrayLike) -> np.ndarray:
        """The (unnormalised) ratio for new points."""
        check_is_fitted(self, "alpha_")
        return rbf_kernel(_as_2d(x, "x"), self.centers_, self.gamma_) @ self.alpha_
