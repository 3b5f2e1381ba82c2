"""One training weight per source sentence, from the density ratio p_target(x) / p_source(x).

The sentences are embedded once by the pretrained encoder (mean-pooled, before any fine-tuning,
so the ratio describes the data rather than the model being trained), then a density-ratio
estimator (domain classifier, KMM or KLIEP) is fitted on the two sides.
"""

from __future__ import annotations

import datasets
import torch

from xdomain_nlp.encoders import embed_texts, load_encoder
from xdomain_nlp.errors import InputError
from xdomain_nlp.shift.reweighting import KLIEP, KMM, DomainClassifierWeights

ESTIMATORS = {"domain_classifier": DomainClassifierWeights, "kmm": KMM, "kliep": KLIEP}


def corpus_texts(corpus: datasets.Dataset) -> list[str]:
    """The ``text`` column, or the words joined by spaces for a word-level corpus."""
    return corpus["text"] if "text" in corpus.column_names else [" ".join(w) for w in corpus["words"]]


def sentence_weights(
    model: str, source: datasets.Dataset, target: datasets.Dataset, method: str, *, clip: float | None = None,
    seed: int = 0, tokenizer=None, device: torch.device | str | None = None, autocast_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, dict]:  # fmt: skip
    """Weights (mean 1, clipped at ``clip``) for the ``source`` sentences, and a summary of them.

    ``method`` names an estimator of ``ESTIMATORS``; the summary has its effective sample size
    (how many equally weighted sentences the weighted set is worth) and the largest weight."""
    if method not in ESTIMATORS:
        raise InputError(f"instance weights: method {method!r} is not one of {', '.join(ESTIMATORS)}")
    encoder = load_encoder(model)  # loaded once for both sides

    def embed(corpus: datasets.Dataset):
        return embed_texts(
            model, corpus_texts(corpus), encoder=encoder, tokenizer=tokenizer, autocast_dtype=autocast_dtype,
            device=device,
        )  # fmt: skip

    # KMM takes no seed here: its kernel width sample stays random_state 0, as in the published figures.
    kwargs = {"clip": clip, **({"random_state": seed} if method != "kmm" else {})}
    estimator = ESTIMATORS[method](**kwargs).fit(embed(source), embed(target))
    summary = {
        "method": method,
        "effective_sample_size": round(estimator.effective_sample_size_, 1),
        "sentences": len(source),
        "max_weight": round(float(estimator.weights_.max()), 3),
    }
    return torch.as_tensor(estimator.weights_, dtype=torch.float32), summary
