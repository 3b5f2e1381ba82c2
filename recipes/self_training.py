"""Self-training a transferred tagger on unlabelled target text (no target labels are read).

    python recipes/self_training.py --config recipes/configs/self_training_de.yaml
    python recipes/self_training.py --config recipes/configs/self_training_de.yaml threshold=0.95 l2sp_alpha=0.01

1. Tag the target text with the source tagger; keep confident predictions as labels
   (class-balanced: every tag keeps its most confident share, not only the easy tags).
2. Fine-tune on those words mixed with labelled source sentences (which keep the source task
   anchored), optionally with L2-SP pulling the weights towards the source model.
3. Repeat for ``rounds``; score before and after on the eval sets, and let the negative-transfer
   guard flag any set that got worse.

With ``convention`` the tagger is self-trained into the target treebank's annotation conventions
(German UD tags possessives DET, adverbially used adjectives ADJ, modals AUX, where English UD
does not): a constrained convention head is fitted on source sentences relabelled by
``convention_rules``, and self-training then runs through that head: it gives the pseudo-labels,
the source sentences mixed in are relabelled by the same rules, and it is scored and saved as the
model's tag set of that name. Still no target label is read.

With ``target_labelled`` and ``target_k`` the same loop is few-shot target fine-tuning: k labelled
target sentences join the mix (``pseudo_labels: false`` leaves the pseudo-labels out), and
``l2sp_alpha`` is the soft weight sharing that keeps k sentences from pulling the model far:

    python recipes/self_training.py --config recipes/configs/self_training_few_shot_de.yaml target_k=50 l2sp_alpha=0.01
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace

import torch
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import SelfTrainingConfig
from xdomain_nlp.data import load_corpora, load_corpus
from xdomain_nlp.errors import run_for_people
from xdomain_nlp.heads import fit_convention_head
from xdomain_nlp.labelspace import parse_rules, relabel, sample_sentences
from xdomain_nlp.shift import check_negative_transfer
from xdomain_nlp.shift.selftrain import L2SP, select_pseudo_labels
from xdomain_nlp.tagging import (
    WindowCollator,
    WordPieceCache,
    encode_corpus,
    load_tagger,
    predict_windows,
)
from xdomain_nlp.training import (
    checkpoint_dir,
    finish_run,
    fit,
    inference_dtype,
    loader_settings,
    lr_scale,
    make_accelerator,
    make_optimizer,
    parse_recipe_args,
    scaled_epochs,
    scheduler_steps,
    stopped_early,
    tagging_report,
    train_batches,
    transfer_param_groups,
    weighted_cross_entropy,
)


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, SelfTrainingConfig, argv)
    acc = make_accelerator(cfg)
    set_seed(cfg.seed)
    model, tokenizer, meta = load_tagger(cfg.source_model)
    label2id = {t: i for i, t in enumerate(model.labels)}
    pieces = WordPieceCache(tokenizer)
    dtype = inference_dtype(acc.device)

    label_column = meta.get("config", {}).get("label_column", "upos")

    def encode(corpus, labelled: bool = False, column: str | None = None):
        column = (column or label_column) if labelled else None
        return encode_corpus(
            corpus,
            tokenizer,
            label_column=column,
            label2id=label2id,
            max_length=cfg.max_length,
            overlap=cfg.window_overlap,
            cache=pieces,
        )

    def predict(windows, n_sentences, tag_set=None):
        return predict_windows(
            model,
            windows,
            n_sentences,
            pad_id=tokenizer.pad_token_id,
            max_tokens=cfg.eval_max_tokens,
            autocast_dtype=dtype,
            tag_set=tag_set,
        )

    # Every corpus is read and encoded once; rounds only re-predict.
    eval_sets = {}
    for spec in cfg.eval:
        corpus = load_corpus(spec)
        if cfg.eval_limit:
            corpus = corpus.select(range(min(cfg.eval_limit, len(corpus))))
        gold = [[label2id[t] for t in tags] for tags in corpus[label_column]]
        eval_sets[spec] = (encode(corpus), gold)

    def evaluate(tag_set=None) -> dict[str, float]:
        scores = {}
        for spec, (windows, gold) in eval_sets.items():
            pred, _ = predict(windows, len(gold), tag_set)
            scores[spec] = tagging_report(gold, pred, model.labels)["accuracy"]
        return scores

    model.to(acc.device)
    source = load_corpora(cfg.train)
    convention = cfg.convention or None
    if convention:
        # Self-training runs through the convention head: it gives the pseudo-labels and is trained.
        rules = parse_rules(cfg.convention_rules, model.labels)
        _, changed = fit_convention_head(
            model,
            tokenizer,
            source,
            convention,
            rules,
            sentences=cfg.convention_sentences,
            seed=cfg.seed,
            autocast_dtype=dtype,
        )
        acc.print(f"convention {convention!r}: relabelled source words {dict(changed)}")
    before = evaluate(convention)  # with a convention, every score is of its head
    acc.print("before: " + ", ".join(f"{k} {v:.2f}" for k, v in before.items()))
    if cfg.pseudo_labels:
        target = load_corpus(cfg.unlabelled_target).select_columns(["words"])
        if cfg.target_limit:
            target = target.select(range(min(cfg.target_limit, len(target))))
        target_windows = encode(target)
    rng = random.Random(cfg.seed)
    source_pick = sorted(rng.sample(range(len(source)), min(cfg.source_sentences, len(source))))
    source_windows = []
    if source_pick:
        mixed_in = source.select(source_pick)
        if convention:  # the English sentences mixed in follow the convention too
            mixed_in, _ = relabel(mixed_in, rules, column=label_column, new_column="convention")
        source_windows = encode(mixed_in, labelled=True, column="convention" if convention else None)
    labelled_target = []
    if cfg.target_labelled and cfg.target_k:
        pool = load_corpus(cfg.target_labelled)
        labelled_target = encode(pool.select(sample_sentences(len(pool), cfg.target_k, cfg.seed)), labelled=True)
    l2sp = L2SP(model, alpha=cfg.l2sp_alpha, skip=("classifier",)) if cfg.l2sp_alpha > 0 else None
    rounds = []
    for round_ in range(cfg.rounds):
        # 1. Pseudo-labels from the current model.
        pseudo, summary = [], {"kept": 0, "words": 0}
        if cfg.pseudo_labels:
            pred, prob = predict(target_windows, len(target), convention)
            labels, summary = select_pseudo_labels(
                pred, prob, threshold=cfg.threshold, balance=cfg.balance, n_classes=len(label2id)
            )
            pseudo = [replace(w, labels=[labels[w.sentence][i] for i in w.word_indices]) for w in target_windows]
            acc.print(f"round {round_ + 1}: {summary['kept']} of {summary['words']} target words pseudo-labelled")
            if summary["kept"] == 0:
                acc.print(f"WARNING: no target word reached threshold={cfg.threshold}; no pseudo-labels this round")
        train = pseudo + labelled_target + source_windows

        # 2. Fine-tune on pseudo-labelled target + labelled target (few-shot) + labelled source.
        sampler = train_batches(cfg, acc, [len(w.input_ids) for w in train], seed=cfg.seed)
        loader = DataLoader(
            train, batch_sampler=sampler, collate_fn=WindowCollator(tokenizer.pad_token_id),
            generator=torch.Generator().manual_seed(cfg.seed), **loader_settings(acc),
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
        model_p, optimizer, loader, scheduler = acc.prepare(model, optimizer, loader, scheduler)

        def loss(model_p, batch):
            logits = model_p(batch["input_ids"], batch["attention_mask"], batch["word_index"], tag_set=convention)
            value = weighted_cross_entropy(logits, batch["labels"])
            return value + l2sp.penalty(acc.unwrap_model(model_p)) if l2sp is not None else value

        result = fit(
            model_p, optimizer, loader, loss, accelerator=acc, scheduler=scheduler, epochs=epochs,
            max_grad_norm=cfg.max_grad_norm, checkpoints=checkpoint_dir(cfg, f"round{round_ + 1}"),
            checkpoint_every=cfg.checkpoint_every, stop_after_steps=cfg.stop_after_steps, desc=f"round {round_ + 1}",
            log_every=cfg.log_every,
        )  # fmt: skip
        if stopped_early(result, acc, f" in round {round_ + 1}"):
            return {}
        model = acc.unwrap_model(model_p)
        scores = evaluate(convention)
        speed = {"train_seconds": result.train_seconds, "train_pieces_per_s": result.pieces_per_s, "lr_scale": scale,
                 "epochs_trained": epochs}  # fmt: skip
        rounds.append({"round": round_ + 1, "pseudo_labels": summary, "scores": scores, **speed})
        acc.print(f"round {round_ + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in scores.items()))

    after = rounds[-1]["scores"] if rounds else before
    guard = [check_negative_transfer("self-training", s, before[s], after[s]).to_dict() for s in cfg.eval]
    extra = {k: v for k, v in meta.items() if k not in ("task", "labels", "mapping_heads")}
    extra["self_training"] = {
        "target_text": cfg.unlabelled_target if cfg.pseudo_labels else None,
        "target_labelled": f"{cfg.target_labelled} ({cfg.target_k} sentences)" if labelled_target else None,
        "rounds": cfg.rounds,
        "convention": {"name": convention, "rules": cfg.convention_rules} if convention else None,
    }
    scores = {k: round(v, 2) for k, v in after.items()}
    if convention:  # the scores are the convention head's; the source head was not scored after
        extra.pop("metrics", None)
        extra["metrics_by_tag_set"] = {**extra.get("metrics_by_tag_set", {}), convention: scores}
    else:
        extra["metrics"] = scores
    # results: the scores after adapting (the convention head's when there is one), as every recipe's.
    results = {spec: {"accuracy": after[spec], "before": before[spec]} for spec in after}
    recorded = {"before": before, "after": after, "rounds": rounds, "guard": guard}
    metrics = finish_run(
        cfg, results, accelerator=acc, command="python recipes/self_training.py " + " ".join(sys.argv[1:]),
        save=lambda out: model.save(out / "model", tokenizer, extra), **recorded,
    )  # fmt: skip
    result = {k: metrics[k] for k in ("config", "setup", "run")} | recorded
    return result


if __name__ == "__main__":
    run_for_people(main)
