"""Relational transfer for sentiment: train on Food reviews, classify Movie reviews with no movie labels.

    python recipes/sentiment_food_to_movie.py --config recipes/configs/sentiment_food_to_movie.yaml
    accelerate launch recipes/sentiment_food_to_movie.py --config recipes/configs/sentiment_food_to_movie.yaml

Every sentence is parsed by the package's biaffine parser (recipes/parser_ewt.py). ``plain`` is
the fine-tuned encoder with mean + attention pooling; ``relational`` adds relational graph
layers over the parse between the encoder and the pooling, so what it learns on Food is
partly *how words relate* (an adjective on its noun, negation on its predicate, a ``but``
clause), which Movie reviews share. For the relational model, each relation type is then
dropped from every test graph in turn: the accuracy it costs is what the model relies on.
``relational+lexicon`` co-extracts opinion and topic lexicons: path patterns linking opinion
words to aspects are learned on Food (seeds: one half of the VADER lexicon; topics: SemEval
aspect terms), then bootstrapped over parses of unlabelled Movie text. Movie sentences on which
the lexicon and the relational model agree become pseudo-labels for a second model. The other
half of VADER judges the extracted words.

Food reviews are 69% positive, SST-2 is balanced: with ``label_shift: em`` every model's Movie
posteriors are re-weighted to the class priors of the Movie sentences, estimated by EM from those
sentences alone (Saerens et al. 2002; their labels are never read), and the adjusted accuracy is
reported beside the unadjusted one. Off by default: over 3 seeds it did not help (README).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import SentimentTransferConfig
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.errors import InputError, run_for_people
from xdomain_nlp.relational.classifier import GraphCollator, GraphSentenceClassifier, model_inputs
from xdomain_nlp.relational.evaluation import (
    accuracy,
    mean_std,
    save_ablation_png,
    save_methods_png,
    score_targets,
    without_relation,
)
from xdomain_nlp.relational.pseudo_labels import fit_coextractor, lexicon_json, lexicon_pseudo_labels
from xdomain_nlp.relational.sentences import encode_sentences, load_graph_items, mask_words
from xdomain_nlp.shift.labelshift import label_shares
from xdomain_nlp.tagging import WordPieceCache
from xdomain_nlp.training import (
    checkpoint_dir,
    finish_run,
    fit,
    loader_settings,
    lr_scale,
    make_accelerator,
    make_optimizer,
    parse_recipe_args,
    save_reliability_png,
    scaled_epochs,
    scheduler_steps,
    train_batches,
    transfer_param_groups,
    weighted_cross_entropy,
    write_json,
)


def train_one(
    cfg: SentimentTransferConfig, acc: Accelerator, tokenizer, items: list[tuple], relational: bool, seed: int,
    name: str, init: GraphSentenceClassifier | None = None,
) -> GraphSentenceClassifier:  # fmt: skip
    """``relational=False`` is the plain classifier: no graph layers, word pooling. ``init``: a
    trained model to go on from (a copy; the original is left as it is). ``name`` keeps this
    training's checkpoints apart, so a killed run resumes it (or reloads it when it had finished)."""
    set_seed(seed)
    model = copy.deepcopy(init) if init is not None else GraphSentenceClassifier.from_encoder(
        cfg.model, ["negative", "positive"], graph_layers=cfg.graph_layers if relational else 0,
        num_bases=cfg.num_bases, dropout=cfg.dropout, pooling=cfg.pooling if relational else "words",
        pool_relations=cfg.pool_relations,
    )  # fmt: skip
    # Batches of random sentences (no length sorting; a token budget on a GPU sorts), in an order
    # that is a function of (seed, epoch), which is what lets a resumed run repeat it.
    lengths = [sum(len(w.input_ids) for w in windows) for windows, _, _ in items]
    sampler = train_batches(cfg, acc, lengths, seed=seed, by_length=False)
    loader = DataLoader(
        items, batch_sampler=sampler, generator=torch.Generator().manual_seed(seed),
        collate_fn=GraphCollator(tokenizer.pad_token_id), **loader_settings(acc),
    )  # fmt: skip
    scale = lr_scale(cfg, acc, sampler)  # > 1 for token budgets larger than batch_size sentences
    groups = transfer_param_groups(
        model, lr=cfg.lr * scale, head_lr=cfg.head_lr * scale, layer_decay=cfg.layer_decay,
        weight_decay=cfg.weight_decay,
    )  # fmt: skip
    optimizer = make_optimizer(groups, cfg.lr * scale, acc)
    epochs = scaled_epochs(cfg.epochs, scale)
    steps = scheduler_steps(len(sampler), epochs, acc)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)
    model, optimizer, loader, scheduler = acc.prepare(model, optimizer, loader, scheduler)
    class_weight = (0.5 / label_shares(items)).float().to(acc.device) if cfg.class_balance else None

    def loss(model, batch):
        logits = model(*model_inputs(batch, acc.device))
        weights = class_weight[batch["labels"]] if class_weight is not None else None  # classes count alike
        return weighted_cross_entropy(logits, batch["labels"], weights)

    result = fit(
        model, optimizer, loader, loss, accelerator=acc, scheduler=scheduler, epochs=epochs,
        max_grad_norm=cfg.max_grad_norm, checkpoints=checkpoint_dir(cfg, name), checkpoint_every=cfg.checkpoint_every,
        stop_after_steps=cfg.stop_after_steps, desc=name, log_every=cfg.log_every,
    )  # fmt: skip
    if not result.finished:
        raise StoppedEarly(result.state.step)
    return acc.unwrap_model(model)


class StoppedEarly(Exception):
    """``stop_after_steps`` stopped a training (as if the run were killed); run again to resume."""


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, SentimentTransferConfig, argv)
    acc = make_accelerator(cfg)
    out = Path(cfg.output_dir)
    tokenizer = load_tokenizer(cfg.model)
    if cfg.pivot_mask and tokenizer.mask_token is None:
        raise InputError(f"pivot_mask = {cfg.pivot_mask}: the tokenizer of {cfg.model} has no mask token")
    pieces = WordPieceCache(tokenizer)
    try:
        return transfer(cfg, acc, tokenizer, pieces, out)
    except StoppedEarly as stop:
        acc.print(f"stopped after {stop.args[0]} steps; run again to resume")
        return {}


def transfer(cfg: SentimentTransferConfig, acc: Accelerator, tokenizer, pieces: WordPieceCache, out: Path) -> dict:
    """Every method on every seed: train on Food, score on Movie, save the first seed's models."""

    def load(specs: list[str], limit: int, labelled: bool = True) -> tuple[list[tuple], list[dict]]:
        return load_graph_items(
            specs, cfg.parser, tokenizer, pieces, limit=limit, max_length=cfg.max_length,
            overlap=cfg.window_overlap, device=acc.device, labelled=labelled,
        )  # fmt: skip

    with acc.main_process_first():  # parses are cached: the main process parses, the others read
        source, source_parses = load(cfg.train, cfg.train_limit)
        targets = {s: load([s], cfg.eval_limit)[0] for s in cfg.eval}
        if "relational+lexicon" in cfg.methods:
            unlabelled, unlabelled_parses = load(cfg.unlabelled_target, cfg.train_limit, labelled=False)
    acc.print(f"source: {len(source)} sentences; " + ", ".join(f"{s}: {len(t)}" for s, t in targets.items()))

    if "relational+lexicon" in cfg.methods:
        coextractor = fit_coextractor(
            source_parses, cfg.topics, split_seed=cfg.lexicon_split_seed, rounds=cfg.lexicon_rounds,
            per_round=cfg.lexicon_per_round,
        )  # fmt: skip

    runs: dict[str, dict] = {}
    predictions: dict[str, np.ndarray] = {}  # "method seedN spec" -> posteriors, for analysis after the run
    for seed in cfg.seeds:
        models = {}  # this seed's models; relational+lexicon starts from the relational one
        for method in cfg.methods:
            train_items = source
            if method == "relational+lexicon":
                for teacher in sorted({"relational", *cfg.teacher} - set(models)):
                    models[teacher] = train_one(
                        cfg, acc, tokenizer, source, teacher == "relational", seed, f"{teacher}_seed{seed}"
                    )
                chosen, lexicon, lexicon_report = lexicon_pseudo_labels(
                    [models[t] for t in cfg.teacher], unlabelled, unlabelled_parses, coextractor,
                    per_class=cfg.pseudo_per_class, min_confidence=cfg.pseudo_min_confidence,
                    pad_id=tokenizer.pad_token_id,
                )  # fmt: skip
                windows = [unlabelled[i][0] for i, _ in chosen]
                if cfg.pivot_mask:  # hide the lexicon's words: the student must learn the sentences' other cues
                    words = [unlabelled_parses[i]["words"] for i, _ in chosen]
                    masked = mask_words(words, set(lexicon.opinion), cfg.pivot_mask, tokenizer.mask_token, seed)
                    windows = encode_sentences(
                        masked, tokenizer, pieces, max_length=cfg.max_length, overlap=cfg.window_overlap,
                        source="masked pseudo-labels",
                    )  # fmt: skip
                pseudo = [(w, unlabelled[i][1], label) for w, (i, label) in zip(windows, chosen)]
                acc.print(f"seed {seed}: lexicon {lexicon_report}; {len(pseudo)} pseudo-labelled Movie sentences")
                if seed == cfg.seeds[0] and acc.is_main_process:
                    write_json(lexicon_json(lexicon, coextractor[0]), out / "lexicon.json")
                train_items = pseudo if cfg.student_data == "pseudo" else source + pseudo
            init = models["relational"] if method == "relational+lexicon" and cfg.student_init == "teacher" else None
            name = f"{method.replace('+', '_')}_seed{seed}"
            model = models[method] = train_one(cfg, acc, tokenizer, train_items, method != "plain", seed, name, init)
            run, posteriors = score_targets(
                model, targets, train_items, label_shift=cfg.label_shift, class_balance=cfg.class_balance,
                pad_id=tokenizer.pad_token_id,
            )  # fmt: skip
            predictions.update({f"{method} seed{seed} {spec}": p.astype(np.float32) for spec, p in posteriors.items()})
            if method == "relational+lexicon":
                run.update(pseudo_labels=len(pseudo), lexicon=lexicon_report)
            if method == "relational" and cfg.ablate:
                base = targets[cfg.ablate_on]  # unadjusted accuracy with and without each relation
                full = run.get("unadjusted", run)[cfg.ablate_on]
                run["ablation"] = {
                    r: accuracy(model, without_relation(base, r), tokenizer.pad_token_id) - full for r in cfg.ablate
                }
            acc.print(f"{method} seed {seed}: " + ", ".join(f"{s} {run[s]:.2f}" for s in cfg.eval))
            runs[f"{method}/seed{seed}"] = run
            if seed == cfg.seeds[0] and acc.is_main_process:
                model.save(
                    out / method.replace("+", "_") / "model",
                    tokenizer,
                    {"config": cfg.to_dict(), "metrics": run, "method": method},
                )
        acc.free_memory()

    summary = summarise(runs, cfg)

    def save(out: Path) -> None:  # the models were saved per method above; here what they predicted
        np.savez_compressed(out / "predictions.npz", **predictions)
        save_methods_png(runs, cfg.methods, cfg.eval, cfg.seeds, out / "methods.png")
        for method in cfg.methods:  # does a confidence of 0.9 mean 90% right, method by method (first seed)
            for spec, calibration in runs[f"{method}/seed{cfg.seeds[0]}"]["calibration"].items():
                name = f"reliability_{method}_{spec}".replace("+", "_").replace(":", "_")
                save_reliability_png(calibration, out / f"{name}.png", f"{method}, seed {cfg.seeds[0]}: {spec}")
        if "relational" in cfg.methods and cfg.ablate:
            save_ablation_png(summary["ablation"], out / "relation_ablation.png", cfg.ablate_on)

    finish_run(cfg, summary, accelerator=acc, save=save, runs=runs)
    return summary


def summarise(runs: dict[str, dict], cfg: SentimentTransferConfig) -> dict:
    """Mean and std over seeds of each method's accuracy, and of each ablation's change."""
    summary: dict = {}
    for method in cfg.methods:
        for spec in cfg.eval:
            values = [runs[f"{method}/seed{s}"][spec] for s in cfg.seeds]
            summary[f"{method} {spec}"] = mean_std(values)
            if cfg.label_shift != "none":
                values = [runs[f"{method}/seed{s}"]["unadjusted"][spec] for s in cfg.seeds]
                summary[f"{method} {spec} unadjusted"] = mean_std(values)
    if "relational+lexicon" in cfg.methods:
        for key in ("precision_at_k", "polarity_accuracy", "extracted"):
            summary[f"lexicon {key}"] = mean_std(
                [runs[f"relational+lexicon/seed{s}"]["lexicon"][key] for s in cfg.seeds]
            )
        summary["pseudo_labels"] = mean_std([runs[f"relational+lexicon/seed{s}"]["pseudo_labels"] for s in cfg.seeds])
    if "relational" in cfg.methods and cfg.ablate:
        summary["ablation"] = {}
        for r in cfg.ablate:
            values = [runs[f"relational/seed{s}"]["ablation"][r] for s in cfg.seeds]
            summary["ablation"][r] = mean_std(values)
    return summary


if __name__ == "__main__":
    run_for_people(main)
