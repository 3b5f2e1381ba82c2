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


class CustomTagsetRecipe:
    """`setup` loads the tagger, the tag sets and the sentences; `train` fits the mapping head (after
    tuning the encoder on the projection, when asked); `evaluate` scores it; `save` writes the model."""

    def __init__(self, cfg: CustomTagsetConfig) -> None:
        self.cfg = cfg

    def setup(self) -> None:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        # 1. The source tagger and both tag sets.
        self.model, self.tokenizer, self.meta = load_tagger(cfg.source_model)
        self.model.to(pick_device("auto"))  # features and predictions on the GPU when there is one
        self.source = load_tagset(self.meta.get("tag_set", "upos"))
        self.target = load_tagset(cfg.target_tag_set)
        self.dtype = inference_dtype(self.model, cfg.infer_precision)
        self.layers = tuple(cfg.feature_layers)

        # 2. The k target sentences, and the extra annotated corpora of the prior.
        pool = load_corpora(cfg.train)
        self.chosen = sample_sentences(len(pool), cfg.k, cfg.seed)
        self.train_corpus = pool.select(self.chosen)
        self.prior_corpora = [(load_corpus(s), cfg.source_column, cfg.target_column, s) for s in cfg.prior_corpora]
        self.projected, self.projection_counts = None, {}
        if cfg.projection:
            # 3. Source sentences rewritten in the target tag set: what the source annotation already
            # knows (verb form, attributive adjective, ...) reaches the head before any target example.
            _, self.projected, self.projection_counts, summary = project_sample(
                cfg.projection, cfg.projection_corpus, cfg.projection_sentences, seed=cfg.seed, target=self.target
            )
            print(summary)

    def train(self) -> None:
        """Tune on the projection (optional), fit the head from its prior, tune with the head (optional)."""
        cfg, tokenizer, source, target = self.cfg, self.tokenizer, self.source, self.target
        self.tuned_on = 0  # projected sentences the encoder was tuned on
        if self.projected is not None and cfg.projection_tune_steps > 0:
            # The encoder learns the target distinctions on the whole projected treebank, with a
            # head fitted on the projected words alone (the k target sentences stay for the head).
            _, everything, _, summary = project_sample(
                cfg.projection, cfg.projection_corpus, cfg.projection_tune_sentences, seed=cfg.seed
            )
            print(f"tuning the encoder on it: {summary}")
            self.tuned_on = len(everything)
            self.model = tune_on_projection(
                self.model, tokenizer, source, target, self.projected, everything, steps=cfg.projection_tune_steps,
                lr=cfg.projection_tune_lr, seed=cfg.seed, feature_layers=self.layers,
                projection_epochs=cfg.projection_epochs, batch_size=cfg.tune_batch_size, head_lr=cfg.tune_head_lr,
                layer_decay=cfg.layer_decay, precision=cfg.mixed_precision, autocast_dtype=self.dtype,
            )  # fmt: skip
        # The prior (declared table + extra annotated corpora + the k sentences against the tagger's
        # predictions); the head starts there (all there is at k = 0) and learns from the k sentences'
        # words on the frozen encoder.
        self.head, self.prior, _ = fit_mapping_head(
            self.model, tokenizer, self.train_corpus, source, target, target_column=cfg.target_column,
            where=cfg.train, prior_corpora=self.prior_corpora, declared_weight=cfg.declared_weight,
            feature_layers=self.layers, epochs=cfg.epochs, lr=cfg.lr, weight_decay=cfg.weight_decay, seed=cfg.seed,
            autocast_dtype=self.dtype, projected=self.projected, projected_share=cfg.projection_share,
            projected_epochs=cfg.projection_epochs,
        )  # fmt: skip
        if self.prior.unreachable():
            print(
                "unreachable target tags (no source tag leads there; only target examples can teach them): "
                f"{self.prior.unreachable()}"
            )
        # Optionally tune the encoder with the head (the head already predicts well, so few steps).
        self.model.add_mapping_head(target, self.head)
        if cfg.tune_steps > 0 and len(self.chosen) > 0:
            windows = encode_corpus(self.train_corpus, tokenizer, label_column=cfg.target_column, label2id=target.index)
            self.model = tune_encoder(
                self.model, windows, pad_id=tokenizer.pad_token_id, tag_set=target.name, steps=cfg.tune_steps,
                batch_size=cfg.tune_batch_size, lr=cfg.tune_lr, head_lr=cfg.tune_head_lr,
                layer_decay=cfg.layer_decay, seed=cfg.seed, precision=cfg.mixed_precision,
            )  # fmt: skip

    def evaluate(self) -> tuple[dict, dict]:
        """Target-tag reports on held-out data, and what the source head now scores on the same encoder."""
        cfg, model, target = self.cfg, self.model, self.target
        results, source_results = {}, {}
        for spec in cfg.eval:
            corpus = load_corpus(spec)
            feats = word_features(model, self.tokenizer, corpus, autocast_dtype=self.dtype, layers=self.layers)
            with torch.no_grad():
                on_head = model_device(self.head)
                pred = self.head(feats.states.to(on_head), feats.source_logits.to(on_head)).argmax(-1).tolist()
            gold_flat = [target.id(t, spec) for tags in corpus[cfg.target_column] for t in tags]
            split = [pred[a:b] for a, b in zip(feats.offsets, feats.offsets[1:])]
            gold = [gold_flat[a:b] for a, b in zip(feats.offsets, feats.offsets[1:])]
            results[spec] = report = tagging_report(gold, split, target.tags)
            print(f"{spec}: {target.name} accuracy {report['accuracy']:.2f} with k={len(self.chosen)} target sentences")
            if cfg.source_column in corpus.column_names:
                # Tuning moved the encoder under the source head too: say what it does to the source tags.
                src_acc = source_accuracy(model, feats, corpus, cfg.source_column, spec)
                source_results[spec] = round(src_acc, 2)
                print(f"{spec}: {self.source.name} accuracy {src_acc:.2f} (source head on the same encoder)")
        return results, source_results

    def save(self, results: dict, source_results: dict) -> None:
        """The model with its new tag set (and how it was trained, for the model card), metrics.json."""
        cfg, target, k = self.cfg, self.target, len(self.chosen)
        training = {
            "tag_set": target.name,
            "k": k,
            "train": " + ".join(cfg.train),
            "tune_steps": cfg.tune_steps if k else 0,
            "projection": cfg.projection or None,
            "projection_corpus": " + ".join(cfg.projection_corpus) if cfg.projection else None,
            "projection_sentences": len(self.projected) if self.projected is not None else 0,
            "projection_tune_steps": cfg.projection_tune_steps if self.tuned_on else 0,
            "projection_tune_sentences": self.tuned_on,
        }
        kept = {k: v for k, v in self.meta.items() if k not in ("task", "labels", "tag_set", "mapping_heads")}
        kept["mapping_training"] = {**self.meta.get("mapping_training", {}), target.name: training}  # model card
        device = str(model_device(self.model))
        finish_run(
            cfg, results, setup={"world_size": 1, "device": device, "training": "a mapping head"},
            save=lambda out: self.model.save(out / "model", self.tokenizer, kept), k_sentences=k,
            unreachable=self.prior.unreachable(), projection_rule_counts=dict(self.projection_counts),
            prior_top=self.prior.top_pairs(), source_results=source_results,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    recipe = CustomTagsetRecipe(parse_recipe_args(__doc__, CustomTagsetConfig, argv))
    recipe.setup()
    recipe.train()
    results, source_results = recipe.evaluate()
    recipe.save(results, source_results)
    return results


if __name__ == "__main__":
    run_for_people(main)
