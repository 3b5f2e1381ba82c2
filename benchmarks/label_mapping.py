"""Benchmark label-space mapping: STTS (German) and PTB (English) from a UPOS tagger, k target sentences.

    python benchmarks/label_mapping.py --source-model runs/benchmark_pos_en_de/model

For each k and seed the same k sentences (drawn from GSD dev / EWT dev) train (a) the mapping head,
(b) a fresh linear head on the same frozen features and, for STTS, (c) the mapping head trained on
English EWT written as STTS by a projection too (``projected_head``, ``--projection``); then each
is tuned together with the encoder on the same k sentences (``mapping_head_tuned``,
``full_finetune``: the fresh head with the whole encoder tuned, ``projected_head_tuned``). Only
the head's start differs between the tuned runs. ``pretuned_*``: the same methods on the encoder
first tuned on all of English EWT written as STTS (``--projection-tune-steps``, as
``projection_tune_steps`` in the recipe; one tuning, seed 0, shared by the three k seeds).
Scores are on GSD test / EWT test. Writes benchmarks/results/label_mapping.json and a
learning-curve PNG.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch

from xdomain_nlp.configs import CustomTagsetConfig
from xdomain_nlp.data import load_corpus
from xdomain_nlp.heads import (
    fit_head_on_features,
    soft_cooccurrence,
    source_accuracy,
    target_ids,
    train_head,
    tune_encoder,
    tune_on_projection,
    word_features,
)
from xdomain_nlp.labelspace import (
    NO_COUNTERPART,
    PROJECTED_COLUMN,
    MappingHead,
    MappingPrior,
    load_tagset,
    project_sample,
    sample_sentences,
)
from xdomain_nlp.tagging import encode_corpus, load_tagger, predict_windows
from xdomain_nlp.training import inference_dtype, run_record

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = CustomTagsetConfig()  # the recipe's settings, as its YAML ships them
LAYERS = (4, 12)
METHODS = (
    "mapping_head",
    "fresh_head",
    "projected_head",
    "mapping_head_tuned",
    "full_finetune",
    "projected_head_tuned",
)
PRETUNED = tuple(f"pretuned_{m}" for m in ("mapping_head", "fresh_head", "projected_head", "projected_head_tuned"))


def accuracy(logits: torch.Tensor, gold: torch.Tensor) -> float:
    return 100.0 * float((logits.argmax(-1) == gold).float().mean())


class FreshHead(torch.nn.Module):
    """A linear head on the same mixed-layer states as the mapping head, blind to the source tags."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.linear = linear
        self.feature_layers = LAYERS

    def forward(self, hidden: torch.Tensor, source_logits: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden.float())


def tuned_accuracy(
    source, pad_id, head, target, train_windows, test_windows, n_test, gold, seed, steps, dtype
) -> float:
    """Tune a copy of the ``source`` tagger with ``head`` on the k windows; accuracy on the test words."""
    model = copy.deepcopy(source)
    model.add_mapping_head(target, head)
    model = tune_encoder(
        model,
        train_windows,
        pad_id=pad_id,
        tag_set=target.name,
        steps=steps,
        batch_size=DEFAULTS.tune_batch_size,
        lr=DEFAULTS.tune_lr,
        head_lr=DEFAULTS.tune_head_lr,
        layer_decay=DEFAULTS.layer_decay,
        seed=seed,
    )
    pred, _ = predict_windows(model, test_windows, n_test, pad_id=pad_id, autocast_dtype=dtype, tag_set=target.name)
    flat = torch.tensor([p for sent in pred for p in sent])
    return 100.0 * float((flat == gold).float().mean())


def tune_steps(k: int) -> int:
    """Tuning steps for k sentences: 3 per sentence, between 100 and 300."""
    return int(min(300, max(100, 3 * k)))


def projected_words(model, tokenizer, name: str, spec: str, sentences: int, dtype) -> tuple[torch.Tensor, ...]:
    """States, source logits and projected target ids (-1: left out) of ``sentences`` of ``spec``."""
    projection, corpus, _, summary = project_sample(name, spec, sentences)
    print(summary)
    words = word_features(model, tokenizer, corpus, autocast_dtype=dtype, layers=LAYERS)
    ids = target_ids(corpus, projection.target, PROJECTED_COLUMN, spec, skip=NO_COUNTERPART)
    return words.states, words.source_logits, ids


def pretune(model, tokenizer, args, dtype) -> tuple:
    """The tagger with its encoder tuned on all of EWT train written as STTS (as the recipe's
    ``projection_tune_steps``), and what the tuning did to UPOS on GSD test."""
    source, target = load_tagset("upos"), load_tagset("stts")
    _, everything, _, summary = project_sample(args.projection, "ud:en_ewt:train", -1, target=target)
    sample = everything.select(sample_sentences(len(everything), args.projection_sentences, 0))  # = projected_words'
    print(f"pretuning the encoder: {summary}", flush=True)
    upos_before = upos_accuracy(model, tokenizer, dtype)
    tuned = tune_on_projection(
        model,
        tokenizer,
        source,
        target,
        sample,
        everything,
        steps=args.projection_tune_steps,
        lr=DEFAULTS.projection_tune_lr,
        seed=0,
        feature_layers=LAYERS,
        batch_size=DEFAULTS.tune_batch_size,
        head_lr=DEFAULTS.tune_head_lr,
        layer_decay=DEFAULTS.layer_decay,
        autocast_dtype=dtype,
    )
    info = {
        "steps": args.projection_tune_steps,
        "lr": DEFAULTS.projection_tune_lr,
        "seed": 0,
        "sentences": len(everything),
        "gsd_test_upos_before": round(upos_before, 2),
        "gsd_test_upos_after": round(upos_accuracy(tuned, tokenizer, dtype), 2),
    }
    print(f"pretuned encoder: {info}", flush=True)
    return tuned, info


def upos_accuracy(model, tokenizer, dtype) -> float:
    """The tagger's own (UPOS) head on GSD test."""
    test = load_corpus("ud:de_gsd:test")
    feats = word_features(model, tokenizer, test, autocast_dtype=dtype, layers=LAYERS)
    return source_accuracy(model, feats, test, "upos", "ud:de_gsd:test")


def curve(
    model,
    tokenizer,
    target_name,
    column,
    pool_spec,
    test_spec,
    ks,
    seeds,
    dtype,
    tune_ks=(),
    projected=None,
    tune_methods=("mapping_head_tuned", "full_finetune", "projected_head_tuned"),
) -> dict:
    source, target = load_tagset("upos"), load_tagset(target_name)
    pool, test = load_corpus(pool_spec), load_corpus(test_spec)
    pool_feats = word_features(model, tokenizer, pool, autocast_dtype=dtype, layers=LAYERS)
    test_feats = word_features(model, tokenizer, test, autocast_dtype=dtype, layers=LAYERS)
    pool_gold = target_ids(pool, target, column, pool_spec)
    test_gold = target_ids(test, target, column, test_spec)
    declared = MappingPrior.estimate(source, target).counts
    if tune_ks:
        test_windows = encode_corpus(test, tokenizer, label_column=None, label2id=None)
    results: dict[str, dict] = {}
    for k in ks:
        runs = {m: [] for m in METHODS}
        for seed in seeds:
            rows = pool_feats.rows(sample_sentences(len(pool), k, seed))
            x, src, y = pool_feats.states[rows], pool_feats.source_logits[rows], pool_gold[rows]
            prior = MappingPrior(source, target, declared + soft_cooccurrence(src, y, len(target)))
            torch.manual_seed(seed)
            head = train_head(
                MappingHead(x.shape[1], prior.conditional(), feature_layers=LAYERS), (x, src), y, seed=seed
            )
            with torch.no_grad():
                runs["mapping_head"].append(accuracy(head(test_feats.states, test_feats.source_logits), test_gold))
            if projected is not None:
                projected_head, _ = fit_head_on_features(
                    source, target, (x, src, y), base_counts=declared, projected=projected, epochs=20, seed=seed
                )
                with torch.no_grad():
                    runs["projected_head"].append(
                        accuracy(projected_head(test_feats.states, test_feats.source_logits), test_gold)
                    )
            if k > 0:
                torch.manual_seed(seed)
                fresh = train_head(torch.nn.Linear(x.shape[1], len(target)), (x,), y, seed=seed)
                with torch.no_grad():
                    runs["fresh_head"].append(accuracy(fresh(test_feats.states), test_gold))
            if k in tune_ks:
                chosen = pool.select(sample_sentences(len(pool), k, seed))
                windows = encode_corpus(chosen, tokenizer, label_column=column, label2id=target.index)
                starts = [("mapping_head_tuned", head), ("full_finetune", FreshHead(fresh))]
                if projected is not None:
                    starts.append(("projected_head_tuned", projected_head))
                for method, start in [(m, h) for m, h in starts if m in tune_methods]:
                    runs[method].append(
                        tuned_accuracy(
                            model,
                            tokenizer.pad_token_id,
                            start,
                            target,
                            windows,
                            test_windows,
                            len(test),
                            test_gold,
                            seed,
                            tune_steps(k),
                            dtype,
                        )
                    )
            print(
                f"{target_name} k={k} seed={seed}: " + ", ".join(f"{m} {v[-1]:.2f}" for m, v in runs.items() if v),
                flush=True,
            )
        results[str(k)] = {
            m: {"mean": float(np.mean(v)), "std": float(np.std(v)), "runs": v} for m, v in runs.items() if v
        }
    return results


def carry_over(before: dict, now: dict[str, dict]) -> dict[str, dict]:
    """Copy into ``now`` the (tag set, k, method) results of the earlier JSON ``before`` that this
    run did not measure; returns ``{"stts k=100 full_finetune": {command, git_commit}, ...}``,
    naming the run that measured each (an earlier carried result keeps its own)."""
    earlier = before.get("carried_over", {})
    if isinstance(earlier, list):  # written before results kept their own run
        earlier = dict.fromkeys(earlier, before.get("carried_from"))
    measured_by = {"command": before.get("command"), "git_commit": before.get("git_commit")}
    carried = {}
    for name, results in now.items():
        for k, methods in before.get(name, {}).items():
            for method, entry in methods.items():
                if method not in results.get(k, {}):
                    results.setdefault(k, {})[method] = entry
                    row = f"{name} k={k} {method}"
                    carried[row] = earlier.get(row) or measured_by
    return carried


def plot(stts: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in METHODS + PRETUNED:
        ks = [int(k) for k, r in stts.items() if method in r]
        if not ks:
            continue
        means = np.array([stts[str(k)][method]["mean"] for k in ks])
        stds = np.array([stts[str(k)][method]["std"] for k in ks])
        xs = [max(k, 1) for k in ks]
        ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=method.replace("_", " "))
    ax.set_xscale("log")
    ax.set_xlabel("labelled German sentences k (k=0 drawn at 1)")
    ax.set_ylabel("STTS accuracy, GSD test")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-model", default=str(REPO / "runs/benchmark_pos_en_de/model"))
    parser.add_argument("--ks", default="0,10,50,100,200,799")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--tune-ks", default="10,100", help="k values at which the encoder is also tuned (slow on CPU)")
    parser.add_argument("--projection", default="ud_en_stts", help="rules writing English UD as STTS ('' = none)")
    parser.add_argument("--projection-sentences", type=int, default=4000, help="English sentences projected")
    parser.add_argument(
        "--projection-tune-steps",
        type=int,
        default=1500,
        help="> 0: also run every method on the encoder first tuned this many steps on all projected EWT",
    )
    parser.add_argument(
        "--only-pretuned", action="store_true", help="measure only the pretuned_* methods (others carried over)"
    )
    parser.add_argument(
        "--tune-methods",
        default="mapping_head_tuned,full_finetune,projected_head_tuned",
        help="which heads to tune at --tune-ks; with --carry-over the others keep the results already in --out",
    )
    parser.add_argument(
        "--carry-over",
        action="store_true",
        help="keep methods and k values of the existing --out that this run does not measure (marked in the JSON)",
    )
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/label_mapping.json"))
    args = parser.parse_args()
    if args.only_pretuned and not (args.carry_over and args.projection and args.projection_tune_steps):
        parser.error("--only-pretuned needs --carry-over, --projection and --projection-tune-steps > 0")
    model, tokenizer, _ = load_tagger(args.source_model)
    dtype = inference_dtype("cpu")
    seeds = [int(s) for s in args.seeds.split(",")]
    ks = [int(k) for k in args.ks.split(",")]
    tune_ks = [int(k) for k in args.tune_ks.split(",") if k]

    def stts_curve(tagger, tune_methods):
        words = None
        if args.projection:
            words = projected_words(
                tagger, tokenizer, args.projection, "ud:en_ewt:train", args.projection_sentences, dtype
            )
        return curve(
            tagger,
            tokenizer,
            "stts",
            "xpos",
            "ud:de_gsd:dev",
            "ud:de_gsd:test",
            ks,
            seeds,
            dtype,
            tune_ks=tune_ks,
            tune_methods=tune_methods,
            projected=words,
        )

    stts, ptb, pretuned_info = {}, {}, None
    if not args.only_pretuned:
        stts = stts_curve(model, args.tune_methods.split(","))
        ptb = curve(model, tokenizer, "ptb", "xpos", "ud:en_ewt:dev", "ud:en_ewt:test", [0, 50, 200], seeds, dtype)
    if args.projection and args.projection_tune_steps > 0:
        pretuned, pretuned_info = pretune(copy.deepcopy(model), tokenizer, args, dtype)
        for k, methods in stts_curve(pretuned, ["projected_head_tuned"]).items():
            stts.setdefault(k, {}).update({f"pretuned_{m}": entry for m, entry in methods.items()})
    out = Path(args.out)
    carried: dict[str, dict] = {}
    if args.carry_over and out.exists():
        # Tuning on CPU takes most of the run; results that do not depend on what changed are kept,
        # each with the run that measured it.
        carried = carry_over(json.loads(out.read_text()), {"stts": stts, "ptb": ptb})
    result = {
        "stts": stts,
        "ptb": ptb,
        "feature_layers": list(LAYERS),
        "projection": args.projection or None,
        **({"pretuned_encoder": pretuned_info} if pretuned_info else {}),
        **({"carried_over": carried} if carried else {}),
        "source_model": args.source_model,
        **run_record("python benchmarks/label_mapping.py " + " ".join(sys.argv[1:])),
    }
    for k in ("0", "10", "50", "100", "200", "799"):
        for method in METHODS + PRETUNED:
            if k in stts and method in stts[k]:
                result[f"stts_k{k}_{method}"] = round(stts[k][method]["mean"], 2)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(stts, out.with_suffix(".png"))
    print(json.dumps({k: v for k, v in result.items() if k.startswith("stts_k")}, indent=2))


if __name__ == "__main__":
    main()
