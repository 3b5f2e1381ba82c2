"""Serve a new tag set from a trained tagger with a handful of target examples.

    python recipes/custom_tagset.py --config recipes/configs/custom_tagset_stts.yaml
    python recipes/custom_tagset.py --config recipes/configs/custom_tagset_stts.yaml k=50 seed=1

Take a UPOS tagger (from recipes/pos_en_de.py), a target tag set (STTS, PTB or your own YAML),
and k sentences labelled with target tags. The mapping head starts from the prior P(target |
source) -- a declared table plus what the k sentences show against the tagger's own predictions
-- and learns the rest from the k sentences on the frozen encoder. With ``projection`` (the
STTS config sets ``ud_en_stts``) English training sentences rewritten in the target tag set by
rules train the head too, so it tags STTS before it sees any German sentence (k = 0). With
``projection_tune_steps`` the encoder first learns those distinctions on the whole projected
treebank (the UPOS tagger had no reason to keep a verb's form or an adjective's position). The
result is the same model directory with one more tag set: ``predict_windows(..., tag_set="stts")``.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import datasets
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.data import load_corpus
from xdomain_nlp.labelspace import (
    NO_COUNTERPART,
    PROJECTED_COLUMN,
    TagSet,
    fit_mapping_head,
    load_tagset,
    project_sample,
    sample_sentences,
)
from xdomain_nlp.labelspace.features import source_accuracy, word_features
from xdomain_nlp.tagging import TokenTagger, collate_windows, encode_corpus, load_tagger
from xdomain_nlp.training import (
    inference_dtype,
    parse_recipe_args,
    run_record,
    tagging_report,
    transfer_param_groups,
    write_json,
)

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
    "projection": None,  # rules writing source-annotated sentences in the target tag set (ud_en_stts, a YAML file)
    "projection_corpus": "ud:en_ewt:train",  # the source treebank they rewrite (needs the columns the rules read)
    "projection_sentences": 4000,  # how many of its sentences (seeded sample; -1 = all)
    "projection_share": 1.0,  # all projected words together weigh this many times the k target sentences' words
    "projection_epochs": 20,  # joint passes over projected + target words (then 20 on the target words alone)
    "projection_tune_steps": 0,  # > 0: first tune the encoder this many steps on the projected source treebank
    "projection_tune_sentences": -1,  # sentences of projection_corpus it draws from (-1 = all)
    "projection_tune_lr": 1.0e-4,  # top encoder layer (lower layers decay as in tune_lr)
    "feature_layers": [4, 12],  # the head reads the mean of these encoder layers (+3.5 points over the top one)
    "epochs": 60,  # passes over the k sentences' words (the head is small; states are cached)
    "lr": 5.0e-3,
    "weight_decay": 1.0e-2,
    "tune_steps": 0,  # > 0: then tune encoder + head together for this many steps (0 = frozen encoder)
    "tune_batch_size": 16,  # sentences (windows) per tuning step
    "tune_lr": 2.0e-4,  # top encoder layer; lower layers get tune_lr * layer_decay**depth
    "tune_head_lr": 1.0e-3,  # mapping head and source classifier
    "layer_decay": 0.9,
    "tune_precision": "auto",  # auto = bf16 autocast where the hardware has it (AVX512-BF16, AMX, GPU); or no
    "output_dir": "runs/custom_tagset",
    "infer_precision": "auto",
}


def tune_encoder(
    model: TokenTagger,
    windows: list,
    *,
    pad_id: int,
    tag_set: str | None,
    steps: int,
    batch_size: int,
    lr: float,
    head_lr: float,
    layer_decay: float = 0.9,
    seed: int = 0,
    precision: str = "auto",
) -> TokenTagger:
    """Tune encoder and heads on labelled target windows; ``tag_set`` picks the head that is scored.

    Word embeddings stay frozen (they hold the target language's pieces where pretraining put
    them); batches cycle through reshuffled windows, so k smaller than a batch still works.
    ``precision="auto"`` trains under bf16 autocast where the device runs bf16 natively.
    """
    if precision == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
        precision = "bf16" if inference_dtype(device) == torch.bfloat16 else "no"
    accelerator = Accelerator(mixed_precision=precision)
    set_seed(seed)
    groups = transfer_param_groups(model, lr=lr, head_lr=head_lr, layer_decay=layer_decay)
    optimizer = torch.optim.AdamW(groups, lr=lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, steps // 10, steps)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    rng = random.Random(seed)
    queue: list[int] = []
    model.train()
    for _ in range(steps):
        while len(queue) < batch_size:
            queue += rng.sample(range(len(windows)), len(windows))
        batch, queue = [windows[i] for i in queue[:batch_size]], queue[batch_size:]
        tensors = {k: v.to(accelerator.device) for k, v in collate_windows(batch, pad_id).items()}
        with accelerator.autocast():
            logits = model(tensors["input_ids"], tensors["attention_mask"], tensors["word_index"], tag_set=tag_set)
        loss = torch.nn.functional.cross_entropy(logits.float(), tensors["labels"])
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    model.eval()
    return accelerator.unwrap_model(model)


def tune_on_projection(
    model: TokenTagger,
    tokenizer,
    source: TagSet,
    target: TagSet,
    projected: datasets.Dataset,
    tune_corpus: datasets.Dataset,
    *,
    steps: int,
    lr: float,
    seed: int = 0,
    feature_layers: tuple[int, int] = (4, 12),
    projection_epochs: int = 20,
    batch_size: int = 16,
    head_lr: float = 1.0e-3,
    layer_decay: float = 0.9,
    precision: str = "auto",
    autocast_dtype: torch.dtype | None = None,
) -> TokenTagger:
    """Tune the encoder on ``tune_corpus`` written in ``target`` by a projection (words with no
    counterpart carry no loss), under a mapping head fitted on the ``projected`` sample alone.

    A tagger trained for the source tags had no reason to keep what only the target tag set asks
    for (a verb's form, an adjective's position); the projected treebank teaches it back.
    """
    start, _, _ = fit_mapping_head(
        model,
        tokenizer,
        projected.select([]),
        source,
        target,
        target_column=PROJECTED_COLUMN,
        feature_layers=feature_layers,
        seed=seed,
        autocast_dtype=autocast_dtype,
        projected=projected,
        projected_epochs=projection_epochs,
    )
    model.add_mapping_head(target, start)
    windows = encode_corpus(
        tune_corpus, tokenizer, label_column=PROJECTED_COLUMN, label2id={**target.index, NO_COUNTERPART: -100}
    )
    return tune_encoder(
        model,
        windows,
        pad_id=tokenizer.pad_token_id,
        tag_set=target.name,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        head_lr=head_lr,
        layer_decay=layer_decay,
        seed=seed,
        precision=precision,
    )


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, DEFAULTS, argv)
    if cfg["projection_tune_steps"] > 0 and not cfg["projection"]:
        raise ValueError("projection_tune_steps > 0 needs a projection (e.g. projection=ud_en_stts)")
    torch.manual_seed(cfg["seed"])

    # 1. The source tagger and both tag sets.
    model, tokenizer, meta = load_tagger(cfg["source_model"])
    source = load_tagset(meta.get("tag_set", "upos"))
    target = load_tagset(cfg["target_tag_set"])
    dtype = inference_dtype("cpu", cfg["infer_precision"])

    # 2. The k target sentences; 3. the prior (declared table + extra annotated corpora + the k
    # sentences against the tagger's predictions); 4. the head, at the prior for k = 0, then fitted
    # on the k sentences' words on the frozen encoder.
    pool = load_corpus(cfg["train"])
    chosen = sample_sentences(len(pool), cfg["k"], cfg["seed"])
    train = pool.select(chosen)
    layers = tuple(cfg["feature_layers"])
    corpora = [(load_corpus(spec), cfg["source_column"], cfg["target_column"], spec) for spec in cfg["prior_corpora"]]
    projected, projection_counts = None, {}
    if cfg["projection"]:
        # 3b. Source sentences rewritten in the target tag set: what the source annotation already
        # knows (verb form, attributive adjective, ...) reaches the head before any target example.
        _, projected, projection_counts, summary = project_sample(
            cfg["projection"], cfg["projection_corpus"], cfg["projection_sentences"], seed=cfg["seed"], target=target
        )
        print(summary)
    tuned_on = 0  # projected sentences the encoder was tuned on
    if projected is not None and cfg["projection_tune_steps"] > 0:
        # 3c. The encoder learns the target distinctions on the whole projected treebank, with a
        # head fitted on the projected words alone (the k target sentences stay for step 4).
        _, everything, _, summary = project_sample(
            cfg["projection"], cfg["projection_corpus"], cfg["projection_tune_sentences"], seed=cfg["seed"]
        )
        print(f"tuning the encoder on it: {summary}")
        tuned_on = len(everything)
        model = tune_on_projection(
            model,
            tokenizer,
            source,
            target,
            projected,
            everything,
            steps=cfg["projection_tune_steps"],
            lr=cfg["projection_tune_lr"],
            seed=cfg["seed"],
            feature_layers=layers,
            projection_epochs=cfg["projection_epochs"],
            batch_size=cfg["tune_batch_size"],
            head_lr=cfg["tune_head_lr"],
            layer_decay=cfg["layer_decay"],
            precision=cfg["tune_precision"],
            autocast_dtype=dtype,
        )
    head, prior, _ = fit_mapping_head(
        model,
        tokenizer,
        train,
        source,
        target,
        target_column=cfg["target_column"],
        where=cfg["train"],
        prior_corpora=corpora,
        declared_weight=cfg["declared_weight"],
        feature_layers=layers,
        epochs=cfg["epochs"],
        lr=cfg["lr"],
        weight_decay=cfg["weight_decay"],
        seed=cfg["seed"],
        autocast_dtype=dtype,
        projected=projected,
        projected_share=cfg["projection_share"],
        projected_epochs=cfg["projection_epochs"],
    )
    unreachable = prior.unreachable()
    if unreachable:
        print(
            f"unreachable target tags (no source tag leads there; only target examples can teach them): {unreachable}"
        )

    # 5. Optionally tune the encoder with the head (the head already predicts well, so few steps).
    model.add_mapping_head(target, head)
    if cfg["tune_steps"] > 0 and len(chosen) > 0:
        windows = encode_corpus(train, tokenizer, label_column=cfg["target_column"], label2id=target.index)
        model = tune_encoder(
            model,
            windows,
            pad_id=tokenizer.pad_token_id,
            tag_set=target.name,
            steps=cfg["tune_steps"],
            batch_size=cfg["tune_batch_size"],
            lr=cfg["tune_lr"],
            head_lr=cfg["tune_head_lr"],
            layer_decay=cfg["layer_decay"],
            seed=cfg["seed"],
            precision=cfg["tune_precision"],
        )

    # 6. Score on held-out target data and save the model with its new tag set.
    results, source_results = {}, {}
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
        if cfg["source_column"] in corpus.column_names:
            # Tuning moved the encoder under the source head too: say what it does to the source tags.
            src_acc = source_accuracy(model, eval_feats, corpus, cfg["source_column"], spec)
            source_results[spec] = round(src_acc, 2)
            print(f"{spec}: {source.name} accuracy {src_acc:.2f} (source head on the same encoder)")
    out = Path(cfg["output_dir"])
    if (out / "model").exists():
        shutil.rmtree(out / "model")
    training = {
        "tag_set": target.name,
        "k": len(chosen),
        "train": cfg["train"],
        "tune_steps": cfg["tune_steps"] if len(chosen) else 0,
        "projection": cfg["projection"] or None,
        "projection_corpus": cfg["projection_corpus"] if cfg["projection"] else None,
        "projection_sentences": len(projected) if projected is not None else 0,
        "projection_tune_steps": cfg["projection_tune_steps"] if tuned_on else 0,
        "projection_tune_sentences": tuned_on,
    }
    kept = {k: v for k, v in meta.items() if k not in ("task", "labels", "tag_set", "mapping_heads")}
    kept["mapping_training"] = {**meta.get("mapping_training", {}), target.name: training}  # read by the model card
    model.save(out / "model", tokenizer, kept)
    write_json(
        {
            "config": cfg,
            "k_sentences": len(chosen),
            "unreachable": unreachable,
            "projection_rule_counts": dict(projection_counts),
            "prior_top": prior.top_pairs(),
            "results": results,
            "source_results": source_results,
            "run": run_record(),
        },
        out / "metrics.json",
    )
    return results


if __name__ == "__main__":
    main()
