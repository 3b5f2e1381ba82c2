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
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import SentimentTransferConfig
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.errors import InputError, run_for_people
from xdomain_nlp.relational.classifier import GraphCollator, GraphSentenceClassifier, model_inputs
from xdomain_nlp.relational.evaluation import (
    accuracy,
    save_method_figures,
    score_targets,
    summarise_runs,
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
    scaled_epochs,
    scheduler_steps,
    train_batches,
    transfer_param_groups,
    weighted_cross_entropy,
    write_json,
)


class FoodToMovieRecipe:
    """`setup` parses and encodes every corpus once; `train` trains and scores every method on every
    seed (a model is scored as soon as it is trained); `save` writes the first seed's models and the run."""

    def __init__(self, cfg: SentimentTransferConfig) -> None:
        self.cfg = cfg
        self.accelerator = make_accelerator(cfg)
        self.out = Path(cfg.output_dir)
        self.tokenizer = load_tokenizer(cfg.model)
        if cfg.pivot_mask and self.tokenizer.mask_token is None:
            raise InputError(f"pivot_mask = {cfg.pivot_mask}: the tokenizer of {cfg.model} has no mask token")
        self.pieces = WordPieceCache(self.tokenizer)

    def load(self, specs: list[str], limit: int, labelled: bool = True) -> tuple[list[tuple], list[dict]]:
        """Sentences as ``(windows, graph, label)`` items, and their parses."""
        cfg = self.cfg
        return load_graph_items(
            specs, cfg.parser, self.tokenizer, self.pieces, limit=limit, max_length=cfg.max_length,
            overlap=cfg.window_overlap, device=self.accelerator.device, labelled=labelled,
        )  # fmt: skip

    def setup(self) -> None:
        cfg, acc = self.cfg, self.accelerator
        with acc.main_process_first():  # parses are cached: the main process parses, the others read
            self.source, source_parses = self.load(cfg.train, cfg.train_limit)
            self.targets = {s: self.load([s], cfg.eval_limit)[0] for s in cfg.eval}
            if "relational+lexicon" in cfg.methods:
                self.unlabelled, self.unlabelled_parses = self.load(cfg.unlabelled_target, cfg.train_limit, False)
        sizes = ", ".join(f"{s}: {len(t)}" for s, t in self.targets.items())
        acc.print(f"source: {len(self.source)} sentences; {sizes}")
        if "relational+lexicon" in cfg.methods:
            self.coextractor = fit_coextractor(
                source_parses, cfg.topics, split_seed=cfg.lexicon_split_seed, rounds=cfg.lexicon_rounds,
                per_round=cfg.lexicon_per_round,
            )  # fmt: skip

    def train(self) -> bool:
        """Every method on every seed: train on Food, score on Movie; False when stopped early."""
        cfg, acc = self.cfg, self.accelerator
        self.runs: dict[str, dict] = {}
        self.predictions: dict[str, np.ndarray] = {}  # "method seedN spec" -> posteriors, for analysis after
        try:
            for seed in cfg.seeds:
                models: dict[str, GraphSentenceClassifier] = {}  # relational+lexicon starts from the relational one
                for method in cfg.methods:
                    train_items, pseudo = self.source, None
                    if method == "relational+lexicon":
                        pseudo = self.pseudo_labelled(seed, models)
                        train_items = pseudo if cfg.student_data == "pseudo" else self.source + pseudo
                    init = models["relational"] if pseudo is not None and cfg.student_init == "teacher" else None
                    name = f"{method.replace('+', '_')}_seed{seed}"
                    models[method] = self.train_model(train_items, method != "plain", seed, name, init)
                    self.evaluate(method, seed, models[method], train_items, pseudo)
                acc.free_memory()
        except StoppedEarly as stop:
            acc.print(f"stopped after {stop.args[0]} steps; run again to resume")
            return False
        return True

    def train_model(
        self, items: list[tuple], relational: bool, seed: int, name: str, init: GraphSentenceClassifier | None = None
    ) -> GraphSentenceClassifier:
        """``relational=False`` is the plain classifier: no graph layers, word pooling. ``init``: a
        trained model to go on from (a copy; the original is left as it is). ``name`` keeps this
        training's checkpoints apart, so a killed run resumes it (or reloads it when it had finished)."""
        cfg, acc = self.cfg, self.accelerator
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
            collate_fn=GraphCollator(self.tokenizer.pad_token_id), **loader_settings(acc),
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
            max_grad_norm=cfg.max_grad_norm, checkpoints=checkpoint_dir(cfg, name),
            checkpoint_every=cfg.checkpoint_every, stop_after_steps=cfg.stop_after_steps, desc=name,
            log_every=cfg.log_every,
        )  # fmt: skip
        if not result.finished:
            raise StoppedEarly(result.state.step)
        return acc.unwrap_model(model)

    def pseudo_labelled(self, seed: int, models: dict) -> list[tuple]:
        """Movie sentences on which the lexicon and the teachers agree, labelled (teachers trained first)."""
        cfg, tokenizer, unlabelled = self.cfg, self.tokenizer, self.unlabelled
        for teacher in sorted({"relational", *cfg.teacher} - set(models)):
            models[teacher] = self.train_model(self.source, teacher == "relational", seed, f"{teacher}_seed{seed}")
        chosen, lexicon, self.lexicon_report = lexicon_pseudo_labels(
            [models[t] for t in cfg.teacher], unlabelled, self.unlabelled_parses, self.coextractor,
            per_class=cfg.pseudo_per_class, min_confidence=cfg.pseudo_min_confidence, pad_id=tokenizer.pad_token_id,
        )  # fmt: skip
        windows = [unlabelled[i][0] for i, _ in chosen]
        if cfg.pivot_mask:  # hide the lexicon's words: the student must learn the sentences' other cues
            words = [self.unlabelled_parses[i]["words"] for i, _ in chosen]
            masked = mask_words(words, set(lexicon.opinion), cfg.pivot_mask, tokenizer.mask_token, seed)
            windows = encode_sentences(
                masked, tokenizer, self.pieces, max_length=cfg.max_length, overlap=cfg.window_overlap,
                source="masked pseudo-labels",
            )  # fmt: skip
        pseudo = [(w, unlabelled[i][1], label) for w, (i, label) in zip(windows, chosen)]
        report = f"seed {seed}: lexicon {self.lexicon_report}; {len(pseudo)} pseudo-labelled Movie sentences"
        self.accelerator.print(report)
        if seed == cfg.seeds[0] and self.accelerator.is_main_process:
            write_json(lexicon_json(lexicon, self.coextractor[0]), self.out / "lexicon.json")
        return pseudo

    def evaluate(self, method: str, seed: int, model, train_items: list[tuple], pseudo: list | None) -> None:
        """Score one trained model on the targets (and each relation's ablation); save the first seed's."""
        cfg, acc, pad_id = self.cfg, self.accelerator, self.tokenizer.pad_token_id
        run, posteriors = score_targets(
            model, self.targets, train_items, label_shift=cfg.label_shift, class_balance=cfg.class_balance,
            pad_id=pad_id,
        )  # fmt: skip
        self.predictions.update({f"{method} seed{seed} {s}": p.astype(np.float32) for s, p in posteriors.items()})
        if pseudo is not None:
            run.update(pseudo_labels=len(pseudo), lexicon=self.lexicon_report)
        if method == "relational" and cfg.ablate:
            base = self.targets[cfg.ablate_on]  # unadjusted accuracy with and without each relation
            full = run.get("unadjusted", run)[cfg.ablate_on]
            run["ablation"] = {r: accuracy(model, without_relation(base, r), pad_id) - full for r in cfg.ablate}
        acc.print(f"{method} seed {seed}: " + ", ".join(f"{s} {run[s]:.2f}" for s in cfg.eval))
        self.runs[f"{method}/seed{seed}"] = run
        if seed == cfg.seeds[0] and acc.is_main_process:
            meta = {"config": cfg.to_dict(), "metrics": run, "method": method}
            model.save(self.out / method.replace("+", "_") / "model", self.tokenizer, meta)

    def save(self) -> dict:
        """The posteriors and pictures (the models were saved as they were scored), metrics.json."""
        cfg, runs = self.cfg, self.runs
        summary = summarise_runs(runs, cfg.methods, cfg.eval, cfg.seeds, label_shift=cfg.label_shift, ablate=cfg.ablate)

        def save(out: Path) -> None:  # the models were saved as they were scored
            np.savez_compressed(out / "predictions.npz", **self.predictions)
            save_method_figures(
                runs, summary, out, cfg.methods, cfg.eval, cfg.seeds, cfg.ablate_on if cfg.ablate else ""
            )

        finish_run(cfg, summary, accelerator=self.accelerator, save=save, runs=runs)
        return summary


class StoppedEarly(Exception):
    """``stop_after_steps`` stopped a training (as if the run were killed); run again to resume."""


def main(argv: list[str] | None = None) -> dict:
    recipe = FoodToMovieRecipe(parse_recipe_args(__doc__, SentimentTransferConfig, argv))
    recipe.setup()
    if not recipe.train():
        return {}
    return recipe.save()


if __name__ == "__main__":
    run_for_people(main)
