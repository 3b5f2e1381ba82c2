"""Amazon multi-domain sentiment (Blitzer et al. 2007): 12 source -> target pairs on a frozen encoder.

    python recipes/sentiment_blitzer.py --config recipes/configs/sentiment_blitzer.yaml
    python recipes/sentiment_blitzer.py --config recipes/configs/sentiment_blitzer.yaml methods=[source_only]

Each review (title + body; long reviews in windows, never truncated) becomes one mean-pooled
vector of the frozen encoder. For each ordered pair of the four domains a logistic regression is
trained on the 2,000 labelled source reviews and scores the 2,000 target reviews:

- ``source_only``: the source classifier as it is.
- ``domain_norm``: every domain is standardised by its own feature means and deviations (the
  target's come from unlabelled target text), so a direction that only says "this is a kitchen
  review" no longer shifts the decision.
- ``self_training``: ``domain_norm``, then rounds in which the most confident share of each
  predicted target class joins the training set as pseudo-labels (the share grows per round).

Target text used for adaptation is never the text that is scored: the target reviews are split
into ``folds``, and each fold is scored by a model adapted on the other folds' text only.
The regularisation C is chosen by cross-validation on the source alone (no target labels).
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import cross_val_score

from xdomain_nlp.configs import SentimentBlitzerConfig
from xdomain_nlp.encoders.corpus_embeddings import CorpusEmbedder
from xdomain_nlp.errors import InputError, run_for_people
from xdomain_nlp.training import finish_run, parse_recipe_args


def load_domains(cfg: SentimentBlitzerConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Embeddings and labels of every domain: positive file then negative file."""
    embed = CorpusEmbedder(cfg.model, prefix="query: ", max_length=cfg.max_length)
    out = {}
    for d in cfg.domains:
        parts = [embed(f"sentiment:blitzer_{d}:{polarity}", cfg.limit) for polarity in ("positive", "negative")]
        out[d] = (np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts]))
        print(f"{d}: {len(out[d][1])} reviews ({int(out[d][1].sum())} positive)", flush=True)
    return out


def standardise(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Centre and scale ``x`` by the feature statistics of ``reference`` (the same domain's text)."""
    return (x - reference.mean(0)) / (reference.std(0) + 1e-6)


def fit(x: np.ndarray, y: np.ndarray, C: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=C, max_iter=2000, random_state=seed).fit(x, y)


def self_train(
    xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, C: float, shares: list[float], seed: int
) -> LogisticRegression:
    """Grow a class-balanced pseudo-labelled share of the target text round by round."""
    clf = fit(xs, ys, C, seed)
    for share in shares:
        proba = clf.predict_proba(xt)
        pred = proba.argmax(1)
        keep = []
        for c in np.unique(pred):
            idx = np.flatnonzero(pred == c)
            keep.extend(idx[np.argsort(-proba[idx, c])[: int(np.ceil(share * len(idx)))]])
        keep = np.array(sorted(keep))
        clf = fit(np.concatenate([xs, xt[keep]]), np.concatenate([ys, pred[keep]]), C, seed)
    return clf


def score_pair(xs, ys, xt, yt, method: str, C: float, cfg: SentimentBlitzerConfig) -> float:
    """Target accuracy; adaptation reads only the text of the folds that are not being scored."""
    if method == "source_only":
        return float(100 * (fit(xs, ys, C, cfg.seed).predict(xt) == yt).mean())
    fold = np.random.default_rng(cfg.seed).permutation(len(yt)) % cfg.folds
    correct = 0
    for f in range(cfg.folds):
        scored, unlabelled = xt[fold == f], xt[fold != f]
        zs, zu, zt = standardise(xs, xs), standardise(unlabelled, unlabelled), standardise(scored, unlabelled)
        if method == "domain_norm":
            clf = fit(zs, ys, C, cfg.seed)
        elif method == "self_training":
            clf = self_train(zs, ys, zu, C, cfg.self_training_shares, cfg.seed)
        else:
            raise InputError(f"unknown method {method!r}; choose from source_only, domain_norm, self_training")
        correct += int((clf.predict(zt) == yt[fold == f]).sum())
    return 100.0 * correct / len(yt)


class BlitzerRecipe:
    """`setup` embeds the domains and picks C on each source; `evaluate` fits and scores every pair
    and method (the classifiers are small: fitting is part of scoring); `save` writes the run."""

    def __init__(self, cfg: SentimentBlitzerConfig) -> None:
        self.cfg = cfg

    def setup(self) -> None:
        cfg = self.cfg
        self.data = load_domains(cfg)
        # C per source domain, by cross-validation on the source (standardised like domain_norm).
        self.chosen_C, self.in_domain = {}, {}
        for d, (x, y) in self.data.items():
            z = standardise(x, x)
            cv = LogisticRegressionCV(Cs=cfg.Cs, cv=5, max_iter=2000, random_state=cfg.seed)
            self.chosen_C[d] = float(cv.fit(z, y).C_[0])
            clf = LogisticRegression(C=self.chosen_C[d], max_iter=2000, random_state=cfg.seed)
            self.in_domain[d] = float(100 * cross_val_score(clf, z, y, cv=5).mean())
            print(f"{d}: C={self.chosen_C[d]}, in-domain 5-fold accuracy {self.in_domain[d]:.2f}", flush=True)

    def evaluate(self) -> dict[str, dict[str, float]]:
        """Target accuracy of every method on every ordered pair of domains."""
        cfg = self.cfg
        pairs: dict[str, dict[str, float]] = {m: {} for m in cfg.methods}
        for source, target in itertools.permutations(cfg.domains, 2):
            (xs, ys), (xt, yt) = self.data[source], self.data[target]
            for method in cfg.methods:
                acc = score_pair(xs, ys, xt, yt, method, self.chosen_C[source], cfg)
                pairs[method][f"{source}->{target}"] = acc
                print(f"{source} -> {target}: {method} {acc:.2f}", flush=True)
        return pairs

    def save(self, pairs: dict[str, dict[str, float]]) -> dict:
        """metrics.json (the average by method as results) and the end of the run."""
        average = {m: float(np.mean(list(v.values()))) for m, v in pairs.items()}
        for m, a in average.items():
            print(f"average over {len(pairs[m])} pairs, {m}: {a:.2f}")
        recorded = {"pairs": pairs, "average": average, "best_method": max(average, key=average.get),
                    "in_domain_cv": self.in_domain, "C": self.chosen_C}  # fmt: skip
        setup = {"world_size": 1, "device": "cpu", "training": "scikit-learn on the benchmark's own features"}
        command = "python recipes/sentiment_blitzer.py " + " ".join(sys.argv[1:])
        metrics = finish_run(self.cfg, average, command=command, setup=setup, **recorded)
        return {"config": metrics["config"], **recorded, "run": metrics["run"]}


def main(argv: list[str] | None = None) -> dict:
    recipe = BlitzerRecipe(parse_recipe_args(__doc__, SentimentBlitzerConfig, argv))
    recipe.setup()
    return recipe.save(recipe.evaluate())


if __name__ == "__main__":
    run_for_people(main)
