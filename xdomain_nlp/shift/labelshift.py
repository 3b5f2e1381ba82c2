"""Label shift: P(Y) differs between source and target, P(X|Y) does not.

A classifier trained on a balanced source over-predicts the minority class of a 90/10 target.
Two estimators of the target priors, with the scikit-learn shape ``fit(...)`` -> ``priors_``:

- `EMLabelShift` (Saerens, Latinne & Decaestecker 2002): EM on the target posteriors, which
  must be calibrated probabilities under the source priors;
- `BBSE` (Lipton, Wang & Smola 2018): black-box shift estimation from the confusion matrix on
  held-out source data; needs only hard predictions, not calibration.

Both give ``adjust(probs)``: the posteriors re-weighted to the estimated target priors. All three
are scikit-learn estimators (keyword-only parameters, ``clone``-able, ``sample_weight`` in `fit`).
`BiasCorrectedTemperatureScaling` calibrates a classifier on held-out source data first, which
is what EM's estimate depends on.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from xdomain_nlp.errors import InputError
from xdomain_nlp.shift.reweighting import check_sample_weight


def _probs(x: ArrayLike, name: str) -> np.ndarray:
    p = np.asarray(x, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise InputError(f"{name}: expected probabilities of shape (examples, classes >= 2), got {p.shape}")
    if (p < 0).any() or not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise InputError(f"{name}: rows must be probability distributions (non-negative, summing to 1)")
    return p


def reweight_posteriors(probs: np.ndarray, source_priors: np.ndarray, target_priors: np.ndarray) -> np.ndarray:
    """Bayes' rule: p_t(y|x) ~ p_s(y|x) * pi_t(y) / pi_s(y)."""
    adjusted = probs * (target_priors / source_priors)
    return adjusted / adjusted.sum(1, keepdims=True)


class EMLabelShift(BaseEstimator):
    """``source_priors``: the class shares the classifier was trained under."""

    def __init__(self, source_priors: ArrayLike | None = None, *, max_iter: int = 1000, tol: float = 1e-8) -> None:
        self.source_priors = source_priors
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, target_probs: ArrayLike, *, sample_weight: ArrayLike | None = None) -> EMLabelShift:
        """``target_probs``: the source-trained classifier's posteriors on unlabelled target data."""
        p = _probs(target_probs, "target_probs")
        w = check_sample_weight(sample_weight, len(p), "sample_weight")
        if self.source_priors is None:
            raise InputError("EMLabelShift: source_priors is required (the class shares the classifier was trained on)")
        source = np.asarray(self.source_priors, dtype=np.float64)
        if source.ndim != 1 or (source <= 0).any() or not np.isclose(source.sum(), 1.0):
            raise InputError(f"EMLabelShift: source_priors must be positive and sum to 1, got {self.source_priors}")
        if p.shape[1] != len(source):
            raise InputError(f"target_probs has {p.shape[1]} classes, source_priors {len(source)}")
        self.source_priors_ = source
        priors, self.n_iter_ = source.copy(), 0
        while self.n_iter_ < self.max_iter:
            self.n_iter_ += 1
            new = w @ reweight_posteriors(p, source, priors) / w.sum()  # E step, then M step
            done = np.abs(new - priors).max() < self.tol
            priors = new
            if done:
                break
        self.priors_ = priors
        return self

    def adjust(self, probs: ArrayLike) -> np.ndarray:
        """``probs`` re-weighted from the source priors to the estimated target priors."""
        check_is_fitted(self, "priors_")
        return reweight_posteriors(_probs(probs, "probs"), self.source_priors_, self.priors_)


def _labels(x: ArrayLike, name: str) -> np.ndarray:
    y = np.asarray(x)
    if y.ndim != 1 or len(y) == 0 or not np.issubdtype(y.dtype, np.integer) or (y < 0).any():
        raise InputError(f"{name}: expected a non-empty 1-D array of class indices 0, 1, ..., got {y.dtype} {y.shape}")
    return y.astype(int)


class BBSE(BaseEstimator):
    """Black-box shift estimation; no parameters."""

    def fit(
        self, source_pred: ArrayLike, source_true: ArrayLike, target_pred: ArrayLike, *,
        sample_weight: ArrayLike | None = None, target_weight: ArrayLike | None = None,
    ) -> BBSE:  # fmt: skip
        """Hard predictions on held-out source data (with its labels, rows weighted by
        ``sample_weight``) and on the target (rows weighted by ``target_weight``)."""
        ys_hat, ys = _labels(source_pred, "source_pred"), _labels(source_true, "source_true")
        yt_hat = _labels(target_pred, "target_pred")
        if ys_hat.shape != ys.shape:
            raise InputError(f"source_pred {ys_hat.shape} and source_true {ys.shape} differ in length")
        ws = check_sample_weight(sample_weight, len(ys), "sample_weight")
        wt = check_sample_weight(target_weight, len(yt_hat), "target_weight")
        k = int(max(ys.max(), ys_hat.max(), yt_hat.max())) + 1
        confusion = np.zeros((k, k))  # C[i, j] = P_s(y_hat = i, y = j)
        np.add.at(confusion, (ys_hat, ys), ws)
        confusion /= ws.sum()
        mu = np.bincount(yt_hat, weights=wt, minlength=k) / wt.sum()  # P_t(y_hat = i)
        self.source_priors_ = np.bincount(ys, weights=ws, minlength=k) / ws.sum()
        try:
            w = np.linalg.solve(confusion, mu)
        except np.linalg.LinAlgError:
            w = np.linalg.lstsq(confusion, mu, rcond=None)[0]
        self.class_weights_ = np.maximum(w, 0.0)  # importance weight per class, pi_t / pi_s
        priors = self.class_weights_ * self.source_priors_
        self.priors_ = priors / priors.sum()
        return self

    def adjust(self, probs: ArrayLike) -> np.ndarray:
        """``probs`` re-weighted from the source priors to the estimated target priors."""
        check_is_fitted(self, "priors_")
        return reweight_posteriors(_probs(probs, "probs"), self.source_priors_, self.priors_)


class BiasCorrectedTemperatureScaling(BaseEstimator):
    """softmax(z / T + b) fit on held-out source logits (Alexandari, Kundaje & Shrikumar 2020).

    EM needs posteriors calibrated under the source priors; a classifier's raw probabilities are
    often over- or under-confident, which biases the estimated target prior. One temperature and
    a per-class bias, fit by log-loss on source data the classifier did not train on, fix most of it.
    """

    def fit(
        self, logits: ArrayLike, labels: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> BiasCorrectedTemperatureScaling:
        z, y = np.asarray(logits, dtype=np.float64), _labels(labels, "labels")
        if z.ndim != 2 or len(z) != len(y) or not np.isfinite(z).all():
            raise InputError(f"logits {z.shape} must be finite (examples, classes) matching {len(y)} labels")
        if y.max() >= z.shape[1]:
            raise InputError(f"labels go up to {y.max()}, but the logits have {z.shape[1]} classes")
        w = check_sample_weight(sample_weight, len(y), "sample_weight")
        w = w / w.sum()
        k = z.shape[1]

        def loss(theta: np.ndarray) -> float:
            scaled = z / np.exp(theta[0]) + theta[1:]
            scaled = scaled - scaled.max(1, keepdims=True)
            return float(-w @ (scaled[np.arange(len(y)), y] - np.log(np.exp(scaled).sum(1))))

        theta = minimize(loss, np.zeros(k + 1), method="L-BFGS-B").x
        self.temperature_, self.bias_ = float(np.exp(theta[0])), theta[1:]
        return self

    def transform(self, logits: ArrayLike) -> np.ndarray:
        """Calibrated probabilities for ``logits``."""
        check_is_fitted(self, "temperature_")
        scaled = np.asarray(logits, dtype=np.float64) / self.temperature_ + self.bias_
        scaled = scaled - scaled.max(1, keepdims=True)
        p = np.exp(scaled)
        return p / p.sum(1, keepdims=True)


def resample_to_priors(labels: ArrayLike, priors: ArrayLike, n: int | None = None, seed: int = 0) -> np.ndarray:
    """Indices drawing a sample whose label distribution is ``priors`` (without replacement where possible)."""
    y = np.asarray(labels, dtype=int)
    priors = np.asarray(priors, dtype=np.float64)
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y == c) for c in range(len(priors))]
    if n is None:  # the largest sample the rarest-relative class allows without replacement
        n = int(min(len(idx) / p for idx, p in zip(by_class, priors) if p > 0))
    counts = np.floor(priors * n).astype(int)
    counts[np.argmax(priors)] += n - counts.sum()
    out = []
    for c, (idx, m) in enumerate(zip(by_class, counts)):
        if m and not len(idx):
            raise InputError(f"class {c} has no examples to draw {m} from")
        out.append(rng.choice(idx, m, replace=m > len(idx)))
    return rng.permutation(np.concatenate(out))


def label_shares(items: list[tuple]) -> torch.Tensor:
    """The share of each class among the items' labels (the priors a model trained on them learns)."""
    counts = torch.bincount(torch.tensor([label for _, _, label in items]), minlength=2).double()
    if (counts == 0).any():
        raise InputError(f"training data has no example of class {int(counts.argmin())}")
    return counts / counts.sum()


def label_shift_accuracy(
    probs: np.ndarray, gold: np.ndarray, priors_trained: np.ndarray, label_shift: str
) -> tuple[float, float, list[float]]:
    """``(adjusted accuracy, unadjusted accuracy, estimated target priors)`` of one target.

    EM starts from the class priors the model was trained under (Food: 69% positive) and reads
    only the target's posteriors, never its labels."""
    probs = probs / probs.sum(1, keepdims=True)
    unadjusted = 100.0 * float((probs.argmax(1) == gold).mean())
    if label_shift == "none":
        return unadjusted, unadjusted, []
    em = EMLabelShift(priors_trained).fit(probs)
    adjusted = 100.0 * float((em.adjust(probs).argmax(1) == gold).mean())
    return adjusted, unadjusted, [round(float(p), 4) for p in em.priors_]
