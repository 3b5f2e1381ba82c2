"""Which shift does a source/target pair have? Frequency bias, context bias, label shift.

- P(X) differs (frequency feature bias): Jensen-Shannon divergence of the unigram distributions,
  the most domain-specific words by log-odds with an informative Dirichlet prior (Monroe,
  Colaresi & Quinn 2008), and how well a classifier on encoder embeddings tells the domains apart
  (AUC, proxy A-distance).
- P(Y|X) differs (context feature bias): words frequent in both domains whose label
  distribution differs (total variation distance), with counts per label.
- P(Y) differs (label shift): the label distributions and their total variation distance.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from xdomain_nlp.errors import InputError

WORD = re.compile(r"\w+(?:'\w+)?", re.UNICODE)


@dataclass
class Side:
    """One domain: tokens per example, and labels per token (tagging) or per example (classification)."""

    name: str
    tokens: list[list[str]]
    token_labels: list[list[str]] | None = None
    example_labels: list[str] | None = None
    texts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.token_labels is not None:
            for i, (toks, labs) in enumerate(zip(self.tokens, self.token_labels)):
                if len(toks) != len(labs):
                    raise InputError(f"{self.name}: example {i} has {len(toks)} tokens but {len(labs)} labels")
        if self.example_labels is not None and len(self.example_labels) != len(self.tokens):
            raise InputError(f"{self.name}: {len(self.tokens)} examples but {len(self.example_labels)} labels")

    def word_label_pairs(self):
        """(lower-cased word, label) for every token; a sentence label is given to each of its words."""
        for i, toks in enumerate(self.tokens):
            for j, tok in enumerate(toks):
                if self.token_labels is not None:
                    yield tok.lower(), self.token_labels[i][j]
                elif self.example_labels is not None:
                    yield tok.lower(), self.example_labels[i]
                else:
                    yield tok.lower(), None

    def labels(self) -> list[str]:
        if self.token_labels is not None:
            return [lab for labs in self.token_labels for lab in labs]
        return list(self.example_labels or [])


def tokenize(text: str) -> list[str]:
    return WORD.findall(text)


def unigram_counts(side: Side) -> Counter:
    return Counter(tok.lower() for toks in side.tokens for tok in toks)


def jensen_shannon(a: Counter, b: Counter) -> float:
    """JS divergence (bits, 0..1) between two unigram distributions."""
    vocab = sorted(set(a) | set(b))
    p = np.array([a.get(w, 0) for w in vocab], dtype=np.float64)
    q = np.array([b.get(w, 0) for w in vocab], dtype=np.float64)
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(x: np.ndarray, y: np.ndarray) -> float:
        mask = x > 0
        return float((x[mask] * np.log2(x[mask] / y[mask])).sum())

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def log_odds_dirichlet(a: Counter, b: Counter, prior_scale: float = 1.0) -> dict[str, float]:
    """z-scores of log-odds(word in a) - log-odds(word in b), shrunk by a Dirichlet prior from both.

    Positive: characteristic of ``a``. The prior (the pooled counts) keeps rare words from
    topping the list on a count of one or two.
    """
    prior = {w: prior_scale * (a.get(w, 0) + b.get(w, 0)) for w in set(a) | set(b)}
    n_a, n_b, alpha0 = sum(a.values()), sum(b.values()), sum(prior.values())
    z = {}
    for w, alpha in prior.items():
        ya, yb = a.get(w, 0), b.get(w, 0)
        delta = np.log((ya + alpha) / (n_a + alpha0 - ya - alpha)) - np.log((yb + alpha) / (n_b + alpha0 - yb - alpha))
        z[w] = float(delta / np.sqrt(1.0 / (ya + alpha) + 1.0 / (yb + alpha)))
    return z


def total_variation(p: dict[str, float], q: dict[str, float]) -> float:
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q))


def distribution(counts: Counter) -> dict[str, float]:
    total = sum(counts.values())
    return {k: v / total for k, v in sorted(counts.items())} if total else {}


def prior_corrected(counts: Counter, prior: dict[str, float]) -> dict[str, float]:
    """p(y | word) / p(y), renormalised: what a word says about its label beyond the label prior.

    Under pure label shift P(Y|X) moves with the prior (Bayes), but P(X|Y) does not; comparing
    prior-corrected distributions keeps a label shift from showing up as context bias.
    """
    raw = {k: v / prior[k] for k, v in counts.items() if prior.get(k)}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()} if total else {}


def context_biased_words(
    source: Side, target: Side, min_count: int = 20, top: int = 25
) -> tuple[list[dict], list[dict]]:
    """Words frequent in both domains whose label distribution differs most, by TVD (for sentence
    labels, after correcting for each side's label prior): the top rows, and all shared words."""
    per_word, priors = {}, {}
    for side in (source, target):
        counts: dict[str, Counter] = defaultdict(Counter)
        for word, label in side.word_label_pairs():
            if label is not None:
                counts[word][label] += 1
        per_word[side.name] = counts
        priors[side.name] = distribution(Counter(side.labels()))
    rows = []
    for word, cs in per_word[source.name].items():
        ct = per_word[target.name].get(word)
        if ct is None or sum(cs.values()) < min_count or sum(ct.values()) < min_count:
            continue
        if source.example_labels is not None:  # sentence labels: few classes, and every word moves with P(Y)
            tvd = total_variation(prior_corrected(cs, priors[source.name]), prior_corrected(ct, priors[target.name]))
        else:  # token tags: dividing by the prior of a rare tag would blow up one stray count
            tvd = total_variation(distribution(cs), distribution(ct))
        rows.append(
            {
                "word": word,
                "tvd": round(tvd, 4),
                "source_count": sum(cs.values()),
                "target_count": sum(ct.values()),
                "source_labels": dict(cs.most_common()),
                "target_labels": dict(ct.most_common()),
            }
        )
    rows.sort(key=lambda r: (-r["tvd"], -(r["source_count"] + r["target_count"])))
    return rows[:top], rows


def domain_words(source: Side, target: Side, top: int = 25) -> dict[str, list[dict]]:
    a, b = unigram_counts(source), unigram_counts(target)
    z = log_odds_dirichlet(a, b)
    ranked = sorted(z.items(), key=lambda kv: kv[1])
    row = lambda w, s: {"word": w, "z": round(s, 2), "source_count": a.get(w, 0), "target_count": b.get(w, 0)}
    return {
        "source": [row(w, s) for w, s in reversed(ranked[-top:])],
        "target": [row(w, s) for w, s in ranked[:top]],
    }


def severity(value: float, low: float, high: float) -> str:
    return "negligible" if value < low else ("strong" if value >= high else "moderate")


def diagnose(
    source: Side,
    target: Side,
    *,
    embeddings: tuple[np.ndarray, np.ndarray] | None = None,
    min_count: int = 20,
    top: int = 25,
) -> dict:
    """Everything the report shows, as one JSON-ready dict, ending with a plain-words verdict."""
    from xdomain_nlp.shift.reweighting import DomainClassifierWeights

    a, b = unigram_counts(source), unigram_counts(target)
    report: dict = {
        "source": {"name": source.name, "examples": len(source.tokens), "tokens": sum(a.values()), "types": len(a)},
        "target": {"name": target.name, "examples": len(target.tokens), "tokens": sum(b.values()), "types": len(b)},
        "unigram_js_divergence": round(jensen_shannon(a, b), 4),
        "domain_words": domain_words(source, target, top),
    }
    if embeddings is not None:
        est = DomainClassifierWeights().fit(*embeddings)
        error = 1 - max(est.auc_, 1 - est.auc_)  # a crude error proxy from the AUC
        report["domain_classifier"] = {
            "auc": round(est.auc_, 4),
            "proxy_a_distance": round(2 * (1 - 2 * error), 4),
            "features": "mean-pooled encoder states",
        }
    labels_s, labels_t = source.labels(), target.labels()
    if labels_s and labels_t:
        ps, pt = distribution(Counter(labels_s)), distribution(Counter(labels_t))
        report["label_distribution"] = {"source": ps, "target": pt, "tvd": round(total_variation(ps, pt), 4)}
        top_rows, all_rows = context_biased_words(source, target, min_count, top)
        shared = sum(r["source_count"] + r["target_count"] for r in all_rows)
        weighted = sum(r["tvd"] * (r["source_count"] + r["target_count"]) for r in all_rows) / shared if shared else 0
        report["context_biased_words"] = top_rows
        report["context_bias"] = {
            "shared_frequent_words": len(all_rows),
            "frequency_weighted_tvd": round(weighted, 4),
            "words_with_tvd_over_0.3": sum(r["tvd"] > 0.3 for r in all_rows),
            "min_count": min_count,
        }
    report["verdict"] = verdict(report)
    return report


def verdict(report: dict) -> dict:
    """Which shift dominates, in plain words, from the normalised strength of each."""
    strengths = {}
    auc = report.get("domain_classifier", {}).get("auc")
    strengths["frequency feature bias (P(X))"] = (
        2 * abs(auc - 0.5) if auc is not None else min(1.0, report["unigram_js_divergence"] * 2)
    )
    if "context_bias" in report:
        strengths["context feature bias (P(Y|X))"] = report["context_bias"]["frequency_weighted_tvd"]
    if "label_distribution" in report:
        strengths["label shift (P(Y))"] = report["label_distribution"]["tvd"]
    levels = {k: severity(v, 0.1, 0.3) for k, v in strengths.items()}
    dominant = max(strengths, key=strengths.get)
    parts = [f"{k}: {levels[k]} ({v:.2f})" for k, v in strengths.items()]
    text = f"Dominant shift: {dominant}. " + "; ".join(parts) + "."
    advice = {
        "frequency feature bias (P(X))": "re-weight source examples (domain classifier, KMM, KLIEP) "
        "or continue pretraining on target text",
        "context feature bias (P(Y|X))": "re-weighting cannot fix it; self-train on target text or "
        "fine-tune on a few target labels with L2-SP",
        "label shift (P(Y))": "re-estimate the target prior (EM or BBSE) and adjust predictions",
    }
    if levels[dominant] == "negligible":
        text += " No shift is strong enough to need a correction."
    else:
        text += f" Suggested: {advice[dominant]}."
    return {
        "dominant": dominant,
        "strengths": {k: round(v, 4) for k, v in strengths.items()},
        "levels": levels,
        "text": text,
    }
