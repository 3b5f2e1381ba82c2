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

import torch

from xdomain_nlp.configs import CustomTagsetConfig
from xdomain_nlp.data import load_corpora, load_corpus
from xdomain_nlp.devices import inference_dtype, model_device, pick_device
from xdomain_nlp.errors import run_for_people
from xdomain_nlp.heads import fit_mapping_head, source_accuracy, tune_encoder, tune_on_projection, word_features
from xdomain_nlp.labelspace import load_tagset, project_sample, sample_sentences
from xdomain_nlp.tagging import encode_corpus, load_tagger
from xdomain_nlp.training import finish_run, parse_recipe_args, tagging_report


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, CustomTagsetConfig, argv)
    torch.manual_seed(cfg.seed)

    # 1. The source tagger and both tag sets.
    model, tokenizer, meta = load_tagger(cfg.source_model)
    model.to(pick_device("auto"))  # features and predictions on the GPU when there is one
    source = load_tagset(meta.get("tag_set", "upos"))
    target = load_tagset(cfg.target_tag_set)
    dtype = inference_dtype(model, cfg.infer_precision)

    # 2. The k target sentences; 3. the prior (declared table + extra annotated corpora + the k
    # sentences against the tagger's predictions); 4. the head, at the prior for k = 0, then fitted
    # on the k sentences' words on the frozen encoder.
    pool = load_corpora(cfg.train)
    chosen = sample_sentences(len(pool), cfg.k, cfg.seed)
    train = pool.select(chosen)
    layers = tuple(cfg.feature_layers)
    corpora = [(load_corpus(spec), cfg.source_column, cfg.target_column, spec) for spec in cfg.prior_corpora]
    projected, projection_counts = None, {}
    if cfg.projection:
        # 3b. Source sentences rewritten in the target tag set: what the source annotation already
        # knows (verb form, attributive adjective, ...) reaches the head before any target example.
        _, projected, projection_counts, summary = project_sample(
            cfg.projection, cfg.projection_corpus, cfg.projection_sentences, seed=cfg.seed, target=target
        )
        print(summary)
    tuned_on = 0  # projected sentences the encoder was tuned on
    if projected is not None and cfg.projection_tune_steps > 0:
        # 3c. The encoder learns the target distinctions on the whole projected treebank, with a
        # head fitted on the projected words alone (the k target sentences stay for step 4).
        _, everything, _, summary = project_sample(
            cfg.projection, cfg.projection_corpus, cfg.projection_tune_sentences, seed=cfg.seed
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
            steps=cfg.projection_tune_steps,
            lr=cfg.projection_tune_lr,
            seed=cfg.seed,
            feature_layers=layers,
            projection_epochs=cfg.projection_epochs,
            batch_size=cfg.tune_batch_size,
            head_lr=cfg.tune_head_lr,
            layer_decay=cfg.layer_decay,
            precision=cfg.mixed_precision,
            autocast_dtype=dtype,
        )
    head, prior, _ = fit_mapping_head(
        model,
        tokenizer,
        train,
        source,
        target,
        target_column=cfg.target_column,
        where=cfg.train,
        prior_corpora=corpora,
        declared_weight=cfg.declared_weight,
        feature_layers=layers,
        epochs=cfg.epochs,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        seed=cfg.seed,
        autocast_dtype=dtype,
        projected=projected,
        projected_share=cfg.projection_share,
        projected_epochs=cfg.projection_epochs,
    )
    unreachable = prior.unreachable()
    if unreachable:
        print(
            f"unreachable target tags (no source tag leads there; only target examples can teach them): {unreachable}"
        )

    # 5. Optionally tune the encoder with the head (the head already predicts well, so few steps).
    model.add_mapping_head(target, head)
    if cfg.tune_steps > 0 and len(chosen) > 0:
        windows = encode_corpus(train, tokenizer, label_column=cfg.target_column, label2id=target.index)
        model = tune_encoder(
            model,
            windows,
            pad_id=tokenizer.pad_token_id,
            tag_set=target.name,
            steps=cfg.tune_steps,
            batch_size=cfg.tune_batch_size,
            lr=cfg.tune_lr,
            head_lr=cfg.tune_head_lr,
            layer_decay=cfg.layer_decay,
            seed=cfg.seed,
            precision=cfg.mixed_precision,
        )

    # 6. Score on held-out target data and save the model with its new tag set.
    results, source_results = {}, {}
    for spec in cfg.eval:
        corpus = load_corpus(spec)
        eval_feats = word_features(model, tokenizer, corpus, autocast_dtype=dtype, layers=layers)
        with torch.no_grad():
            on_head = model_device(head)
            pred = head(eval_feats.states.to(on_head), eval_feats.source_logits.to(on_head)).argmax(-1).tolist()
        gold_flat = [target.id(t, spec) for tags in corpus[cfg.target_column] for t in tags]
        split = [pred[a:b] for a, b in zip(eval_feats.offsets, eval_feats.offsets[1:])]
        gold = [gold_flat[a:b] for a, b in zip(eval_feats.offsets, eval_feats.offsets[1:])]
        report = tagging_report(gold, split, target.tags)
        results[spec] = report
        print(f"{spec}: {target.name} accuracy {report['accuracy']:.2f} with k={len(chosen)} target sentences")
        if cfg.source_column in corpus.column_names:
            # Tuning moved the encoder under the source head too: say what it does to the source tags.
            src_acc = source_accuracy(model, eval_feats, corpus, cfg.source_column, spec)
            source_results[spec] = round(src_acc, 2)
            print(f"{spec}: {source.name} accuracy {src_acc:.2f} (source head on the same encoder)")
    training = {
        "tag_set": target.name,
        "k": len(chosen),
        "train": " + ".join(cfg.train),
        "tune_steps": cfg.tune_steps if len(chosen) else 0,
        "projection": cfg.projection or None,
        "projection_corpus": " + ".join(cfg.projection_corpus) if cfg.projection else None,
        "projection_sentences": len(projected) if projected is not None else 0,
        "projection_tune_steps": cfg.projection_tune_steps if tuned_on else 0,
        "projection_tune_sentences": tuned_on,
    }
    kept = {k: v for k, v in meta.items() if k not in ("task", "labels", "tag_set", "mapping_heads")}
    kept["mapping_training"] = {**meta.get("mapping_training", {}), target.name: training}  # read by the model card
    finish_run(
        cfg, results, setup={"world_size": 1, "device": str(model_device(model)), "training": "a mapping head"},
        save=lambda out: model.save(out / "model", tokenizer, kept), k_sentences=len(chosen),
        unreachable=unreachable, projection_rule_counts=dict(projection_counts), prior_top=prior.top_pairs(),
        source_results=source_results,
    )  # fmt: skip
    return results


if __name__ == "__main__":
    run_for_people(main)
