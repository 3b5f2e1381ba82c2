"""Serve a new tag set from a trained tagger with a handful of target examples.

    python recipes/custom_tagset.py --config recipes/configs/custom_tagset_stts.yaml
    python recipes/custom_tagset.py --config recipes/configs/custom_tagset_stts.yaml k=50 seed=1

Take a UPOS tagger (from recipes/pos_en_de.py), a target tag set (STTS, PTB or your own YAML),
and k sentences labelled with target tags. The mapping head starts from the prior P(target |
source) -- a declared table plus what the k sentences show against the tagger's own predictions
-- and learns the rest from the k sentences on the frozen encoder. The result is the same model
directory with one more tag set: ``predict_windows(..., tag_set="stts")``.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import torch

from xdomain_nlp.data import load_corpus
from xdomain_nlp.labelspace import MappingHead, MappingPrior, load_tagset, train_head
from xdomain_nlp.labelspace.features import word_features
from xdomain_nlp.tagging import load_tagger
from xdomain_nlp.training import inference_dtype, parse_recipe_args, run_record, tagging_report, write_json

DEFAULTS = {
    "source_model": "runs/pos_en_de/model",  # a tagger saved by recipes/pos_en_de.py
    "target_tag_set": "stts",  # upos | ptb | stts | path to a YAML/JSON tag-set file
    "target_column": "xpos",  # the column holding target tags in the corpora below
    "train": "ud:de_gsd:dev",  # pool the k labelled target sentences are drawn from
    "k": 100,  # target sentences used (0 = prior only; -1 = the whole pool)
    "seed": 0,  # which k sentences, and head initialisation order
    "eval": ["ud:de_gsd:test"],
    "prior_corpora": [],  # extra corpora annotated with both tag sets (source column, target column)
    "source_column": "upos",  # source-tag column of prior_corpora
    "declared_weight": 1.0,  # pseudo-counts per declared (source, target) pair
    "feature_layers": [4, 12],  # the head reads the mean of these encoder layers (+3.5 points over the top one)
    "epochs": 60,  # passes over the k sentences' words (the head is small; states are cached)
    "lr": 5.0e-3,
    "weight_decay": 1.0e-2,
    "output_dir": "runs/custom_tagset",
    "infer_precision": "auto",
}


def sample_sentences(n: int, k: int, seed: int) -> list[int]:
    """k sentence indices out of n, the same for the same seed (k = -1 or k >= n: all)."""
    if k < 0 or k >= n:
        return list(range(n))
    return sorted(random.Random(seed).sample(range(n), k))


def soft_cooccurrence(source_logits: torch.Tensor, target_ids: torch.Tensor, n_target: int) -> np.ndarray:
    """Expected counts [source, target] of the tagger's source distribution against gold targets."""
    probs = source_logits.softmax(-1)
    counts = torch.zeros(probs.shape[1], n_target)
    counts.index_add_(1, target_ids, probs.T)
    return counts.numpy()


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, DEFAULTS, argv)
    torch.manual_seed(cfg["seed"])

    # 1. The source tagger and both tag sets.
    model, tokenizer, meta = load_tagger(cfg["source_model"])
    source = load_tagset(meta.get("tag_set", "upos"))
    target = load_tagset(cfg["target_tag_set"])
    dtype = inference_dtype("cpu", cfg["infer_precision"])

    # 2. The k target sentences, encoded once by the frozen tagger.
    pool = load_corpus(cfg["train"])
    chosen = sample_sentences(len(pool), cfg["k"], cfg["seed"])
    train = pool.select(chosen)
    layers = tuple(cfg["feature_layers"])
    feats = word_features(model, tokenizer, train, autocast_dtype=dtype, layers=layers)
    target_ids = torch.tensor(
        [
            target.id(t, f"{cfg['train']}: {sid}")
            for sid, tags in zip(train["sent_id"], train[cfg["target_column"]])
            for t in tags
        ],
        dtype=torch.long,
    )

    # 3. The prior: declared table + extra annotated corpora + the k sentences against predictions.
    corpora = [(load_corpus(spec), cfg["source_column"], cfg["target_column"], spec) for spec in cfg["prior_corpora"]]
    counts = np.zeros((len(source), len(target)))
    if corpora or source.name in target.maps_from:
        counts += MappingPrior.estimate(source, target, corpora, declared_weight=cfg["declared_weight"]).counts
    counts += soft_cooccurrence(feats.source_logits, target_ids, len(target))
    prior = MappingPrior(source, target, counts)
    unreachable = prior.unreachable()
    if unreachable:
        print(
            f"unreachable target tags (no source tag leads there; only target examples can teach them): {unreachable}"
        )

    # 4. The head: the prior at k = 0, then fitted on the k sentences' words.
    head = MappingHead(model.hf.config.hidden_size, prior.conditional(), feature_layers=layers)
    train_head(
        head,
        (feats.states, feats.source_logits),
        target_ids,
        epochs=cfg["epochs"],
        lr=cfg["lr"],
        weight_decay=cfg["weight_decay"],
        seed=cfg["seed"],
    )
    model.add_mapping_head(target, head)

    # 5. Score on held-out target data and save the model with its new tag set.
    results = {}
    for spec in cfg["eval"]:
        corpus = load_corpus(spec)
        eval_feats = word_features(model, tokenizer, corpus, autocast_dtype=dtype, layers=layers)
        with torch.no_grad():
            pred = head(eval_feats.states, eval_feats.source_logits).argmax(-1).tolist()
        gold_flat = [target.id(t, spec) for tags in corpus[cfg["target_column"]] for t in tags]
        split = [pred[a:b] for a, b in zip(eval_feats.offsets, eval_feats.offsets[1:])]
        gold = [gold_flat[a:b] for a, b in zip(eval_feats.offsets, eval_feats.offsets[1:])]
        report = tagging_report(gold, split, target.tags)
        results[spec] = report
        print(f"{spec}: {target.name} accuracy {report['accuracy']:.2f} with k={len(chosen)} target sentences")
    out = Path(cfg["output_dir"])
    if (out / "model").exists():
        shutil.rmtree(out / "model")
    model.save(
        out / "model",
        tokenizer,
        {k: v for k, v in meta.items() if k not in ("task", "labels", "tag_set", "mapping_heads")},
    )
    write_json(
        {
            "config": cfg,
            "k_sentences": len(chosen),
            "unreachable": unreachable,
            "prior_top": prior.top_pairs(),
            "results": results,
            "run": run_record(),
        },
        out / "metrics.json",
    )
    return results


if __name__ == "__main__":
    main()
