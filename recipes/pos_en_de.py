"""Zero-shot cross-lingual POS tagging: train UPOS on English, tag German with no German labels.

    python recipes/pos_en_de.py --config recipes/configs/pos_en_de.yaml
    accelerate launch recipes/pos_en_de.py --config recipes/configs/pos_en_de.yaml epochs=1
    ACCELERATE_USE_CPU=1 torchrun --nproc_per_node 2 recipes/pos_en_de.py --config ...   # 2 CPU processes

The same loop runs on one CPU, one GPU or many processes: `accelerate` owns devices, mixed
precision, gradient sync and accumulation; this file owns the order of things.
"""

from __future__ import annotations

from pathlib import Path

import torch
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import POSTransferConfig
from xdomain_nlp.data import load_corpora, load_corpus
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.errors import run_for_people
from xdomain_nlp.heads import fit_convention_head
from xdomain_nlp.labelspace import parse_rules
from xdomain_nlp.shift import sentence_weights
from xdomain_nlp.tagging import (
    UPOS,
    TokenTagger,
    WindowCollator,
    WordPieceCache,
    capitalisation_noise,
    encode_corpus,
    score_tagger,
)
from xdomain_nlp.training import (
    WeightAverager,
    checkpoint_dir,
    finish_run,
    fit,
    inference_dtype,
    loader_settings,
    lr_scale,
    make_accelerator,
    make_optimizer,
    parse_recipe_args,
    save_confusion_png,
    save_reliability_png,
    save_transfer_gap_png,
    scaled_epochs,
    scheduler_steps,
    stopped_early,
    train_batches,
    transfer_pairs,
    transfer_param_groups,
    weighted_cross_entropy,
)


class POSTransferRecipe:
    """Read the config, build everything in `setup`, run the loop in `train`, then `evaluate`."""

    def __init__(self, cfg: POSTransferConfig) -> None:
        self.cfg = cfg
        self.out = Path(cfg.output_dir)
        if cfg.convention:  # a typo in a rule should fail now, not after training
            parse_rules(cfg.convention_rules, list(UPOS))
        self.accelerator = make_accelerator(cfg)

    def setup(self) -> None:
        cfg, acc = self.cfg, self.accelerator
        # 1. Seed before the head is built, so every process starts from the same weights.
        set_seed(cfg.seed)
        self.tokenizer = load_tokenizer(cfg.model)
        self.labels = list(UPOS)
        self.label2id = {t: i for i, t in enumerate(self.labels)}
        self.model = TokenTagger.from_encoder(cfg.model, self.labels, num_layers=cfg.encoder_layers)

        # 2. Data: corpora are read and encoded once per process (cheap next to training).
        self.pieces = WordPieceCache(self.tokenizer)
        with acc.main_process_first():
            train, self.train_windows = self.load_and_encode(cfg.train, cfg.train_limit, cfg.capitalise_prob)
        # Instance re-weighting (frequency feature bias): one weight per training sentence.
        weights = self.sentence_weights(train) if cfg.reweight != "none" else None
        # Batches of batch_size sentences, or of batch_tokens pieces (auto: a GPU-sized budget on a GPU).
        self.sampler = train_batches(cfg, acc, [len(w.input_ids) for w in self.train_windows], seed=cfg.seed)
        # The loader's own generator: starting an epoch (or a resumed one) must not draw from the
        # global RNG that dropout uses, or a resumed run would see different dropout masks.
        loader = DataLoader(
            self.train_windows, batch_sampler=self.sampler, generator=torch.Generator().manual_seed(cfg.seed),
            collate_fn=WindowCollator(self.tokenizer.pad_token_id, weights), **loader_settings(acc),
        )  # fmt: skip

        # 3. Optimizer over the trainable groups only, linear warmup then decay; larger batches than
        # batch_size (a token budget) take larger steps.
        self.lr_scale = lr_scale(cfg, acc, self.sampler)
        groups = transfer_param_groups(
            self.model, lr=cfg.lr * self.lr_scale, head_lr=cfg.head_lr * self.lr_scale, layer_decay=cfg.layer_decay,
            weight_decay=cfg.weight_decay, freeze_embeddings=cfg.freeze_embeddings, freeze_layers=cfg.freeze_layers,
        )  # fmt: skip
        optimizer = make_optimizer(groups, cfg.lr * self.lr_scale, acc)
        self.epochs = scaled_epochs(cfg.epochs, self.lr_scale)  # as many more epochs: the same distance travelled
        steps = scheduler_steps(len(self.sampler), self.epochs, acc)
        scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * steps), steps)

        # 4. One prepare call: devices, DDP wrapping, sharded batches, mixed precision.
        self.model, self.optimizer, self.loader, self.scheduler = acc.prepare(self.model, optimizer, loader, scheduler)
        # Steps this process will take (the scheduler above counts all processes' steps).
        self.total_steps = steps // acc.num_processes
        self.averager = None
        if cfg.average_weights:  # saved and restored with the run's checkpoints
            start = max(1, int(cfg.average_from * self.total_steps))
            self.averager = WeightAverager(acc.unwrap_model(self.model), start_step=start, every=cfg.average_every)

    def sentence_weights(self, train) -> torch.Tensor:
        """p_target(x) / p_source(x) per training sentence, on the pretrained encoder's embeddings."""
        cfg = self.cfg
        target = load_corpus(cfg.reweight_target)
        if len(target) > cfg.reweight_target_sample:
            target = target.shuffle(seed=cfg.seed).select(range(cfg.reweight_target_sample))
        weights, self.reweighting = sentence_weights(
            cfg.model, train, target, cfg.reweight, clip=cfg.reweight_clip or None, seed=cfg.seed,
            tokenizer=self.tokenizer, device=str(self.accelerator.device),
            autocast_dtype=inference_dtype(self.accelerator.device, cfg.infer_precision),
        )  # fmt: skip
        self.accelerator.print(f"instance weights: {self.reweighting}")
        return weights

    def load_and_encode(self, spec: str | list[str], limit: int = 0, capitalise: float = 0.0):
        """A corpus (its first ``limit`` sentences when set) and its encoder windows."""
        corpus = load_corpora(spec, limit)
        if capitalise:
            noisy = capitalisation_noise([list(w) for w in corpus["words"]], capitalise, self.cfg.seed)
            corpus = corpus.remove_columns("words").add_column("words", noisy)
        windows = encode_corpus(
            corpus, self.tokenizer, label_column=self.cfg.label_column, label2id=self.label2id,
            max_length=self.cfg.max_length, overlap=self.cfg.window_overlap, cache=self.pieces,
            source=spec if isinstance(spec, str) else " + ".join(spec),
        )  # fmt: skip
        return corpus, windows

    def loss(self, model, batch: dict) -> torch.Tensor:
        """Each labelled word counts as much as its sentence's instance weight (1 without re-weighting)."""
        logits = model(batch["input_ids"], batch["attention_mask"], batch["word_index"])
        return weighted_cross_entropy(logits, batch["labels"], batch.get("weights"))

    def train(self) -> bool:
        """The shared loop; False when stopped early by ``stop_after_steps`` (run again to resume)."""
        cfg = self.cfg

        def each_epoch(epoch: int) -> dict | None:  # progress only; never used to pick a model
            if not cfg.eval_each_epoch:
                return None
            scores = self.evaluate(cfg.eval_each_epoch, write=False)
            return {k: round(r["accuracy"], 2) for k, r in scores.items()}

        self.result = fit(
            self.model, self.optimizer, self.loader, self.loss, accelerator=self.accelerator,
            scheduler=self.scheduler, epochs=self.epochs, max_grad_norm=cfg.max_grad_norm,
            checkpoints=checkpoint_dir(cfg), checkpoint_every=cfg.checkpoint_every,
            stop_after_steps=cfg.stop_after_steps, averager=self.averager, on_epoch_end=each_epoch,
            log_every=cfg.log_every,
        )  # fmt: skip
        self.train_words_per_s = self.result.items_per_s
        return not stopped_early(self.result, self.accelerator)

    def add_convention(self) -> dict:
        """Fit the convention head on relabelled training sentences; its scores on convention_eval."""
        cfg, acc = self.cfg, self.accelerator
        if not acc.is_main_process:
            acc.wait_for_everyone()
            return {}
        model = acc.unwrap_model(self.model)
        train = load_corpora(cfg.train)
        # A small run is small in every phase: train_limit caps the head's sentences too.
        sentences = min(cfg.convention_sentences, cfg.train_limit or cfg.convention_sentences)
        _, changed = fit_convention_head(
            model, self.tokenizer, train, cfg.convention, cfg.convention_rules, sentences=sentences,
            seed=cfg.seed, autocast_dtype=inference_dtype(acc.device, cfg.infer_precision),
        )  # fmt: skip
        acc.print(f"convention {cfg.convention!r}: relabelled training words {dict(changed)}")
        results = self.evaluate(cfg.convention_eval, tag_set=cfg.convention)
        return {"name": cfg.convention, "rules": cfg.convention_rules, "changed": changed, "results": results}

    def evaluate(self, specs: list[str] | None = None, write: bool = True, tag_set: str | None = None) -> dict:
        """Score eval corpora on the main process (with ``tag_set``'s head if given); write confusion PNGs."""
        cfg, acc = self.cfg, self.accelerator
        results = {}
        if acc.is_main_process:
            model = acc.unwrap_model(self.model)
            dtype = inference_dtype(acc.device, cfg.infer_precision)
            for spec in cfg.eval if specs is None else specs:
                corpus, windows = self.load_and_encode(spec, cfg.eval_limit)
                report = score_tagger(
                    model, corpus, windows, label_column=cfg.label_column, pad_id=self.tokenizer.pad_token_id,
                    tag_set=tag_set, max_tokens=cfg.eval_max_tokens, autocast_dtype=dtype,
                )  # fmt: skip
                what = f"UPOS ({tag_set} conventions)" if tag_set else "UPOS"
                if write:
                    name = spec.replace(":", "_") + (f"_{tag_set}" if tag_set else "")
                    title = f"{spec}: {what} {report['accuracy']:.2f}"
                    save_confusion_png(report, self.out / f"confusion_{name}.png", title)
                    save_reliability_png(report["calibration"], self.out / f"reliability_{name}.png", title)
                results[spec] = report
                acc.print(f"{spec}: {what} accuracy {report['accuracy']:.2f} on {report['words']} words")
            if write and not tag_set:  # a test set in the training language against each other language's
                for source, target in transfer_pairs(cfg.train, list(results)):
                    name = f"transfer_gap_{source}_vs_{target}".replace(":", "_")
                    save_transfer_gap_png(results[source], results[target], self.out / f"{name}.png", (source, target))
        acc.wait_for_everyone()
        return results

    def save(self, results: dict, convention: dict | None = None) -> None:
        """The model (with the convention head), metrics.json, and the end of the run."""
        summary = {spec: round(r["accuracy"], 2) for spec, r in results.items()}
        extra = {"tag_set": "upos", "train": self.cfg.train, "config": self.cfg.to_dict(), "metrics": summary}
        if convention:  # the scores of the convention head, by tag set
            scores = {spec: round(r["accuracy"], 2) for spec, r in convention["results"].items()}
            extra["metrics_by_tag_set"] = {convention["name"]: scores}
        finish_run(
            self.cfg, results, accelerator=self.accelerator, fit_result=self.result,
            save=lambda out: self.accelerator.unwrap_model(self.model).save(out / "model", self.tokenizer, extra),
            train_words_per_s=self.train_words_per_s, lr_scale=self.lr_scale, epochs_trained=self.epochs,
            reweighting=getattr(self, "reweighting", None), convention=convention,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    recipe = POSTransferRecipe(parse_recipe_args(__doc__, POSTransferConfig, argv))
    recipe.setup()
    if not recipe.train():
        return {}
    results = recipe.evaluate()
    convention = recipe.add_convention() if recipe.cfg.convention else None
    recipe.save(results, convention)  # the model, metrics.json; the checkpoints served the run only
    return results


if __name__ == "__main__":
    run_for_people(main)
