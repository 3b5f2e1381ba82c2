"""Domain-adversarial training (Ganin et al. 2016): features a domain classifier cannot tell apart.

A gradient-reversal layer sits between the shared features and a domain classifier: the
classifier learns to tell source from target, the features learn to defeat it, and the label
head learns the task on source labels. `DANNClassifier` does this on fixed input features (for
text, frozen encoder embeddings), scikit-learn style::

    clf = DANNClassifier().fit(source_X, source_y, target_X)
    clf.predict(X)

With ``adversarial=0`` it is the same network without the domain loss: the fair baseline. It is
a scikit-learn classifier (keyword-only parameters, ``clone``-able, ``random_state``); its
random draws are its own: the global torch generator is the same after `fit` as before.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from xdomain_nlp.errors import InputError
from xdomain_nlp.training import fit


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, strength: float) -> torch.Tensor:
        ctx.strength = strength
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.strength * grad, None


def grad_reverse(x: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """Identity forward; the gradient is multiplied by ``-strength`` on the way back."""
    return _Reverse.apply(x, strength)


class DANNClassifier(ClassifierMixin, BaseEstimator):
    """A one-hidden-layer network trained on labelled ``source`` rows and unlabelled ``target`` rows."""

    def __init__(
        self, *, hidden: int = 256, adversarial: float = 0.1, epochs: int = 40, lr: float = 1e-3, batch_size: int = 64,
        dropout: float = 0.1, weight_decay: float = 1e-4, random_state: int = 0,
    ) -> None:  # fmt: skip
        self.hidden = hidden
        self.adversarial = adversarial
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.random_state = random_state

    def fit(self, source: ArrayLike, labels: ArrayLike, target: ArrayLike) -> DANNClassifier:
        for name in ("hidden", "epochs", "batch_size"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) > 0):
                raise InputError(f"DANNClassifier: {name} must be a positive integer, got {getattr(self, name)!r}")
        if self.adversarial < 0 or self.lr <= 0 or not 0 <= self.dropout < 1:
            raise InputError("DANNClassifier: adversarial >= 0, lr > 0 and 0 <= dropout < 1 are required")
        with torch.random.fork_rng(devices=[]):  # initialisation and dropout draw here, not from the caller's RNG
            torch.manual_seed(self.random_state)
            return self._fit(source, labels, target)

    def _fit(self, source: ArrayLike, labels: ArrayLike, target: ArrayLike) -> DANNClassifier:
        rng = np.random.default_rng(self.random_state)
        xs = torch.as_tensor(np.asarray(source), dtype=torch.float32)
        xt = torch.as_tensor(np.asarray(target), dtype=torch.float32)
        ys = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        if xs.ndim != 2 or xt.ndim != 2 or xs.shape[1] != xt.shape[1] or len(xs) != len(ys):
            raise InputError(
                f"source {tuple(xs.shape)}, labels {tuple(ys.shape)} and target {tuple(xt.shape)} disagree"
            )
        self.classes_ = torch.unique(ys).tolist()
        d = xs.shape[1]
        self.features_ = nn.Sequential(nn.Linear(d, self.hidden), nn.ReLU(), nn.Dropout(self.dropout))
        self.label_head_ = nn.Linear(self.hidden, max(self.classes_) + 1)
        self.domain_head_ = nn.Sequential(
            nn.Linear(self.hidden, self.hidden // 2), nn.ReLU(), nn.Linear(self.hidden // 2, 1)
        )
        params = [*self.features_.parameters(), *self.label_head_.parameters(), *self.domain_head_.parameters()]
        optimizer = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        steps_per_epoch = int(np.ceil(len(xs) / self.batch_size))
        total = steps_per_epoch * self.epochs
        self.domain_accuracy_ = []
        seen = {"step": 0, "correct": 0, "domain": 0}  # this epoch's domain-head record

        def source_batches():  # one shuffled pass over the source per epoch, drawn from the same rng
            order = rng.permutation(len(xs))
            for b in range(steps_per_epoch):
                yield order[b * self.batch_size : (b + 1) * self.batch_size].tolist()

        def loss_fn(model, batch) -> torch.Tensor:
            idx = batch["idx"]
            tidx = rng.choice(len(xt), len(idx), replace=len(idx) > len(xt))
            # Ganin et al.'s schedule: the reversal strength ramps from 0 to `adversarial`.
            progress = seen["step"] / max(total - 1, 1)
            strength = self.adversarial * (2 / (1 + np.exp(-10 * progress)) - 1)
            seen["step"] += 1
            hs, ht = self.features_(xs[idx]), self.features_(xt[tidx])
            loss = nn.functional.cross_entropy(self.label_head_(hs), ys[idx])
            if self.adversarial > 0:
                h = torch.cat([hs, ht])
                domain = torch.cat([torch.zeros(len(hs)), torch.ones(len(ht))])
                logits = self.domain_head_(grad_reverse(h, strength)).squeeze(-1)
                loss = loss + nn.functional.binary_cross_entropy_with_logits(logits, domain)
                seen["correct"] += int(((logits > 0).float() == domain).sum())
                seen["domain"] += len(domain)
            return loss

        def epoch_end(epoch: int) -> None:
            if seen["domain"]:
                self.domain_accuracy_.append(seen["correct"] / seen["domain"])
            seen["correct"] = seen["domain"] = 0

        network = nn.ModuleList([self.features_, self.label_head_, self.domain_head_])
        loader = _Batches(source_batches, steps_per_epoch)
        fit(
            network, optimizer, loader, loss_fn, epochs=self.epochs, on_epoch_end=epoch_end,
            count_items=lambda b: len(b["idx"]), desc="dann",
        )  # fmt: skip
        network.train()  # predict_proba switches dropout off and on around itself
        return self

    @torch.no_grad()
    def predict_proba(self, x: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "label_head_")
        self.features_.eval()
        logits = self.label_head_(self.features_(torch.as_tensor(np.asarray(x), dtype=torch.float32)))
        self.features_.train()
        return logits.softmax(-1).numpy()

    def predict(self, x: ArrayLike) -> np.ndarray:
        return self.predict_proba(x).argmax(1)


class _Batches:
    """A pass-by-pass batch source for `fit`: each iteration calls ``make`` for a fresh pass."""

    def __init__(self, make, length: int) -> None:
        self.make, self.length = make, length

    def __iter__(self):
        return ({"idx": idx} for idx in self.make())

    def __len__(self) -> int:
        return self.length
