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
import math
import random
from pathlib import Path

import datasets
import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import SentimentTransferConfig
from xdomain_nlp.data import cache_dir, load_corpus
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.relational.classifier import (
    GraphSentenceClassifier,
    collate_graph_batch,
    model_inputs,
    predict_proba,
)
from xdomain_nlp.relational.lexicon import (
    Lexicon,
    LexiconCoExtractor,
    agreement_pseudo_labels,
    judge_lexicon,
    load_vader_lexicon,
    split_lexicon,
)
from xdomain_nlp.relational.sentences import graphs_of, parsed_corpus
from xdomain_nlp.shift.labelshift import label_shares, label_shift_accuracy
from xdomain_nlp.tagging import WordPieceCache, encode_corpus
from xdomain_nlp.training import (
    LengthGroupedBatchSampler,
    checkpoint_dir,
    fit,
    make_accelerator,
    parse_recipe_args,
    remove_checkpoints,
    run_record,
    transfer_param_groups,
    weighted_cross_entropy,
    write_json,
)


def load_items(
    specs: list[str],
    cfg: SentimentTransferConfig,
    tokenizer,
    pieces: WordPieceCache,
    limit: int,
    device,
    labelled: bool = True,
) -> tuple[list[tuple], list[dict]]:
    """``(windows, graph, label)`` per sentence of the named corpora (parsed once, cached), and the parses.

    ``labelled=False`` never reads the corpus labels (the item label is -100)."""
    corpus = datasets.concatenate_datasets([load_corpus(s) for s in specs])
    if limit:
        corpus = corpus.shuffle(seed=0).select(range(min(limit, len(corpus))))
    parses = parsed_corpus(corpus["text"], cfg.parser, cache_dir() / "parses", device=device)
    windows = encode_words([p["words"] for p in parses], cfg, tokenizer, pieces, "+".join(specs))
    labels = corpus["label"] if labelled else [-100] * len(corpus)
    return list(zip(windows, graphs_of(parses), labels)), parses


def encode_words(
    sentences: list[list[str]], cfg: SentimentTransferConfig, tokenizer, pieces: WordPieceCache, source: str
) -> list[list]:
    """The encoder windows of each sentence (one, or several overlapping ones for a long sentence)."""
    windows = encode_corpus(
        datasets.Dataset.from_dict({"words": sentences}), tokenizer, label_column=None, label2id=None,
        max_length=cfg.max_length, overlap=cfg.window_overlap, cache=pieces, source=source,
    )  # fmt: skip
    by_sentence: list[list] = [[] for _ in sentences]
    for w in windows:
        by_sentence[w.sentence].append(w)
    return by_sentence


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
    groups = transfer_param_groups(
        model, lr=cfg.lr, head_lr=cfg.head_lr, layer_decay=cfg.layer_decay, weight_decay=cfg.weight_decay
    )
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    # One batch of random sentences at a time (groups of one batch: no length sorting), in an
    # order that is a function of (seed, epoch), which is what lets a resumed run repeat it.
    sampler = LengthGroupedBatchSampler([1] * len(items), cfg.batch_size, seed=seed, group_size=1)
    loader = DataLoader(
        items, batch_sampler=sampler, generator=torch.Generator().manual_seed(seed),
        collate_fn=lambda b: collate_graph_batch(b, tokenizer.pad_token_id),
    )  # fmt: skip
    steps = math.ceil(len(loader) / cfg.gradient_accumulation_steps) * cfg.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)
    model, optimizer, loader, scheduler = acc.prepare(model, optimizer, loader, scheduler)
    class_weight = (0.5 / label_shares(items)).float().to(acc.device) if cfg.class_balance else None

    def loss(model, batch):
        logits = model(*model_inputs(batch, acc.device))
        weights = class_weight[batch["labels"]] if class_weight is not None else None  # classes count alike
        return weighted_cross_entropy(logits, batch["labels"], weights)

    result = fit(
        model, optimizer, loader, loss, accelerator=acc, scheduler=scheduler, epochs=cfg.epochs,
        max_grad_norm=cfg.max_grad_norm, checkpoints=checkpoint_dir(cfg, name), checkpoint_every=cfg.checkpoint_every,
        stop_after_steps=cfg.stop_after_steps, desc=name,
    )  # fmt: skip
    if not result.finished:
        raise StoppedEarly(result.state.step)
    return acc.unwrap_model(model)


class StoppedEarly(Exception):
    """``stop_after_steps`` stopped a training (as if the run were killed); run again to resume."""


def fit_coextractor(cfg: SentimentTransferConfig, food_parses: list[dict]) -> tuple[LexiconCoExtractor, dict, dict]:
    """What opinion and topic words look like in Food parses (VADER half A, SemEval aspect terms)."""
    seeds, held_out = split_lexicon(load_vader_lexicon(), seed=cfg.lexicon_split_seed)
    topics = {
        w.lower() for row in load_corpus(cfg.topics) for w, tag in zip(row["words"], row["aspect_tags"]) if tag != "O"
    }
    extractor = LexiconCoExtractor(rounds=cfg.lexicon_rounds, per_round=cfg.lexicon_per_round)
    return extractor.fit(food_parses, seeds, topics), seeds, held_out


def lexicon_json(lexicon: Lexicon, extractor: LexiconCoExtractor, top: int = 200) -> dict:
    new = lexicon.new_opinion_words()[:top]
    topics = sorted(lexicon.topic, key=lambda w: -lexicon.topic[w])[:top]
    return {
        "patterns_linking_opinion_to_topic": extractor.pattern_weights("opinion"),
        "patterns_linking_topic_to_opinion": extractor.pattern_weights("topic"),
        "opinion_words": [{"word": w, "polarity": lexicon.opinion[w], "score": lexicon.opinion_score[w]} for w in new],
        "topic_words": [{"word": w, "score": lexicon.topic[w]} for w in topics],
    }


def lexicon_pseudo_labels(
    cfg: SentimentTransferConfig, teachers: list, unlabelled: list[tuple], parses: list[dict], lexicon_parts,
    tokenizer, pieces, acc, seed: int,
):  # fmt: skip
    """Bootstrap the Movie lexicon (with the teachers' sentence leanings for polarity), then keep the
    Movie sentences where the lexicon's sign agrees with the teachers, as labelled items."""
    extractor, seeds, held_out = lexicon_parts
    probs = sum(predict_proba(m, unlabelled, pad_id=tokenizer.pad_token_id, device=acc.device) for m in teachers)
    probs = probs / len(teachers)
    lexicon = extractor.extract(parses, seeds, sentence_polarity=(2 * probs[:, 1] - 1).tolist())
    scores = [lexicon.sentence_score(p) for p in parses]
    chosen = sorted(agreement_pseudo_labels(
        probs.tolist(), scores, cfg.pseudo_per_class, cfg.pseudo_min_confidence
    ).items())  # fmt: skip
    windows = [unlabelled[i][0] for i, _ in chosen]
    if cfg.pivot_mask:
        words = [parses[i]["words"] for i, _ in chosen]
        windows = masked_windows(words, set(lexicon.opinion), cfg, tokenizer, pieces, seed)
    pseudo = [(w, unlabelled[i][1], label) for w, (i, label) in zip(windows, chosen)]
    return pseudo, lexicon, judge_lexicon(lexicon, held_out)


def masked_windows(
    sentences: list[list[str]],
    opinion: set[str],
    cfg: SentimentTransferConfig,
    tokenizer,
    pieces: WordPieceCache,
    seed: int,
) -> list[list]:
    """The sentences encoded with each opinion word replaced by the mask token at rate ``pivot_mask``.

    The pseudo-labels are sentences the lexicon already explains; hiding its words makes the
    student learn the other cues of those Movie sentences (their structure, words no lexicon has).
    """
    if tokenizer.mask_token is None:
        raise ValueError(f"pivot_mask: the tokenizer of {cfg.model} has no mask token")
    rng = random.Random(seed)
    masked = [
        [tokenizer.mask_token if w.lower() in opinion and rng.random() < cfg.pivot_mask else w for w in words]
        for words in sentences
    ]
    return encode_words(masked, cfg, tokenizer, pieces, "masked pseudo-labels")


def accuracy(model, items: list[tuple], pad_id: int, device) -> float:
    probs = predict_proba(model, items, pad_id=pad_id, device=device)
    gold = torch.tensor([label for _, _, label in items])
    return 100.0 * float((probs.argmax(-1) == gold).float().mean())


def evaluate(
    model, targets: dict[str, list[tuple]], train_items: list[tuple], cfg: SentimentTransferConfig, pad_id: int, device
) -> tuple[dict, dict[str, np.ndarray]]:
    """Accuracy on each target, after the label-shift adjustment ``cfg.label_shift`` names
    (``unadjusted`` keeps the plain argmax accuracy), and the model's posteriors on each target."""
    trained = np.full(2, 0.5) if cfg.class_balance else label_shares(train_items).numpy()
    run: dict = {}
    unadjusted, priors, posteriors = {}, {}, {}
    for spec, items in targets.items():
        probs = posteriors[spec] = predict_proba(model, items, pad_id=pad_id, device=device).double().numpy()
        gold = np.array([label for _, _, label in items])
        run[spec], unadjusted[spec], priors[spec] = label_shift_accuracy(probs, gold, trained, cfg.label_shift)
    if cfg.label_shift != "none":
        run.update(unadjusted=unadjusted, target_priors=priors)
    return run, posteriors


def ablate(items: list[tuple], relation: str) -> list[tuple]:
    return [(windows, graph.without([relation]), label) for windows, graph, label in items]


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, SentimentTransferConfig, argv)
    acc = make_accelerator(cfg)
    out = Path(cfg.output_dir)
    tokenizer = load_tokenizer(cfg.model)
    pieces = WordPieceCache(tokenizer)
    try:
        summary = transfer(cfg, acc, tokenizer, pieces, out)
    except StoppedEarly as stop:
        acc.print(f"stopped after {stop.args[0]} steps; run again to resume")
        return {}
    if not cfg.keep_checkpoints:
        remove_checkpoints(out, acc)
    acc.end_training()
    return summary


def transfer(cfg: SentimentTransferConfig, acc: Accelerator, tokenizer, pieces: WordPieceCache, out: Path) -> dict:
    """Every method on every seed: train on Food, score on Movie, save the first seed's models."""
    with acc.main_process_first():
        source, source_parses = load_items(cfg.train, cfg, tokenizer, pieces, cfg.train_limit, acc.device)
        targets = {s: load_items([s], cfg, tokenizer, pieces, cfg.eval_limit, acc.device)[0] for s in cfg.eval}
        if "relational+lexicon" in cfg.methods:
            unlabelled, unlabelled_parses = load_items(
                cfg.unlabelled_target, cfg, tokenizer, pieces, cfg.train_limit, acc.device, labelled=False
            )
    acc.print(f"source: {len(source)} sentences; " + ", ".join(f"{s}: {len(t)}" for s, t in targets.items()))

    if "relational+lexicon" in cfg.methods:
        lexicon_parts = fit_coextractor(cfg, source_parses)

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
                pseudo, lexicon, lexicon_report = lexicon_pseudo_labels(
                    cfg,
                    [models[t] for t in cfg.teacher],
                    unlabelled,
                    unlabelled_parses,
                    lexicon_parts,
                    tokenizer,
                    pieces,
                    acc,
                    seed,
                )
                acc.print(f"seed {seed}: lexicon {lexicon_report}; {len(pseudo)} pseudo-labelled Movie sentences")
                if seed == cfg.seeds[0] and acc.is_main_process:
                    write_json(lexicon_json(lexicon, lexicon_parts[0]), out / "lexicon.json")
                train_items = pseudo if cfg.student_data == "pseudo" else source + pseudo
            init = models["relational"] if method == "relational+lexicon" and cfg.student_init == "teacher" else None
            name = f"{method.replace('+', '_')}_seed{seed}"
            model = models[method] = train_one(cfg, acc, tokenizer, train_items, method != "plain", seed, name, init)
            run, posteriors = evaluate(model, targets, train_items, cfg, tokenizer.pad_token_id, acc.device)
            predictions.update({f"{method} seed{seed} {spec}": p.astype(np.float32) for spec, p in posteriors.items()})
            if method == "relational+lexicon":
                run.update(pseudo_labels=len(pseudo), lexicon=lexicon_report)
            if method == "relational" and cfg.ablate:
                base = targets[cfg.ablate_on]  # unadjusted accuracy with and without each relation
                full = run.get("unadjusted", run)[cfg.ablate_on]
                pad = tokenizer.pad_token_id
                run["ablation"] = {r: accuracy(model, ablate(base, r), pad, acc.device) - full for r in cfg.ablate}
            acc.print(f"{method} seed {seed}: " + ", ".join(f"{s} {run[s]:.2f}" for s in cfg.eval))
            runs[f"{method}/seed{seed}"] = run
            if seed == cfg.seeds[0] and acc.is_main_process:
                model.save(
                    out / method.replace("+", "_") / "model", tokenizer, {"config": cfg.to_dict(), "metrics": run}
                )
        acc.free_memory()

    summary = summarise(runs, cfg)
    if acc.is_main_process:
        write_json(
            {"config": cfg.to_dict(), "summary": summary, "runs": runs, "run": run_record()}, out / "metrics.json"
        )
        np.savez_compressed(out / "predictions.npz", **predictions)
        if "relational" in cfg.methods and cfg.ablate:
            save_ablation_png(summary["ablation"], out / "relation_ablation.png", cfg.ablate_on)
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


def mean_std(values: list[float]) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "n": len(values)}


def save_ablation_png(ablation: dict, path: Path, spec: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(ablation, key=lambda r: ablation[r]["mean"])
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(names) + 1.2))
    ax.barh(names, [ablation[r]["mean"] for r in names], xerr=[ablation[r]["std"] for r in names], color="#c44e52")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"accuracy change on {spec} when the relation's edges are dropped (points)")
    ax.set_title("What the relational model relies on")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
