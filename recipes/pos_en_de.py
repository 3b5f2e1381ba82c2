"""Zero-shot cross-lingual POS tagging: train UPOS on English, tag German with no German labels.

    python recipes/pos_en_de.py --config recipes/configs/pos_en_de.yaml
    accelerate launch recipes/pos_en_de.py --config recipes/configs/pos_en_de.yaml epochs=1
    ACCELERATE_USE_CPU=1 torchrun --nproc_per_node 2 recipes/pos_en_de.py --config ...   # 2 CPU processes

The same loop runs on one CPU, one GPU or many processes: `accelerate` owns devices, mixed
precision, gradient sync and accumulation; this file owns the order of things.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.data import load_corpora, load_corpus
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.labelspace import fit_convention_head, parse_rules
from xdomain_nlp.tagging import (
    UPOS,
    TokenTagger,
    WordPieceCache,
    capitalisation_noise,
    collate_windows,
    encode_corpus,
    predict_windows,
)
from xdomain_nlp.training import (
    LengthGroupedBatchSampler,
    WeightAverager,
    inference_dtype,
    parse_recipe_args,
    run_record,
    save_confusion_png,
    tagging_report,
    transfer_param_groups,
    write_json,
)

DEFAULTS = {
    "model": "embedded:multilingual-e5-small",  # embedded name, local path or Hub id
    "train": ["ud:en_ewt:train"],  # corpus splits or CoNLL-U paths, concatenated
    "train_limit": 0,  # use only the first N training sentences (0 = all); for smoke runs
    "eval": ["ud:de_gsd:dev", "ud:de_gsd:test", "ud:en_ewt:test"],  # scored after training
    "eval_limit": 0,  # score only the first N sentences of each eval set (0 = all)
    "eval_each_epoch": [],  # also score these after every epoch (progress only; never used to pick a model)
    "label_column": "upos",
    # A target treebank's conventions for the same tags, learned from the English training data
    # relabelled by rules (no target labels): e.g. ["PRON[Poss=Yes] -> DET"] for German UD.
    "convention": "",  # name of the tag set the rules define ("" = none)
    "convention_rules": [],
    "convention_sentences": 2000,  # English training sentences the convention head learns from
    "convention_eval": [],  # eval corpora scored with the convention too (their source-head score stays)
    "capitalise_prob": 0.0,  # upper-case the first letter of this share of lower-case training words
    "reweight": "none",  # domain_classifier | kmm | kliep: weight each training sentence by p_target / p_source
    "reweight_target": "",  # unlabelled target text for the weights (a corpus spec; its labels are never read)
    "reweight_target_sample": 2000,  # target sentences drawn for the density ratio
    "reweight_clip": 10.0,  # cap on a sentence weight (weights have mean 1); 0 = no cap
    "output_dir": "runs/pos_en_de",
    "seed": 42,
    "epochs": 2,
    "batch_size": 32,  # sentences per optimizer step per process (before accumulation)
    "gradient_accumulation_steps": 1,
    "lr": 5.0e-5,  # top encoder layer; lower layers get lr * layer_decay**depth
    "head_lr": 1.0e-3,  # the fresh classifier learns faster than the pretrained layers
    "layer_decay": 0.9,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "max_grad_norm": 1.0,
    "freeze_embeddings": True,  # keeps German pieces where pretraining put them
    "freeze_layers": 0,  # also freeze the lowest N encoder layers (faster, sometimes better transfer)
    "encoder_layers": 0,  # keep only the lowest N encoder layers (0 = all); the rest are dropped
    "max_length": 256,  # subwords per window; longer sentences are split into overlapping windows
    "window_overlap": 64,
    "average_weights": True,  # evaluate/save the average of late checkpoints (steadier transfer)
    "average_from": 0.5,  # ...of the snapshots after this fraction of the training steps
    "average_every": 10,  # ...taken every N optimizer steps
    "mixed_precision": "auto",  # auto = bf16 on a GPU, fp32 on CPU; or no / bf16 / fp16
    "keep_checkpoints": 1,  # how many of the newest checkpoints stay on disk
    "checkpoint_every": 0,  # optimizer steps between save_state checkpoints (0 = end of epoch only)
    "stop_after_steps": 0,  # stop (as if interrupted) after N optimizer steps; for resume tests
    "eval_max_tokens": 16384,  # padded tokens per inference batch
    "infer_precision": "auto",  # auto = bf16 where the CPU/GPU runs it natively (same accuracy, faster)
}


def with_word_weights(batch: dict, windows: list, sentence_weights: torch.Tensor | None) -> dict:
    """Add each labelled word's sentence weight to a collated batch (no-op without weights)."""
    if sentence_weights is not None:
        batch["weights"] = torch.cat([sentence_weights[w.sentence].repeat(len(w.labels)) for w in windows])
    return batch


class POSTransferRecipe:
    """Read the config, build everything in `setup`, run the loop in `train`, then `evaluate`."""

    def __init__(self, cfg: dict) -> None:
        self.cfg = cfg
        self.out = Path(cfg["output_dir"])
        precision = cfg["mixed_precision"]
        if precision == "auto":
            precision = "bf16" if torch.cuda.is_available() else "no"
        self.accelerator = Accelerator(
            mixed_precision=precision,
            gradient_accumulation_steps=cfg["gradient_accumulation_steps"],
            project_dir=str(self.out),
        )

    def setup(self) -> None:
        cfg, acc = self.cfg, self.accelerator
        # 1. Seed before the head is built, so every process starts from the same weights.
        set_seed(cfg["seed"])
        self.tokenizer = load_tokenizer(cfg["model"])
        self.labels = list(UPOS)
        if cfg["convention"]:  # a typo in a rule should fail now, not after training
            parse_rules(cfg["convention_rules"], self.labels)
        self.label2id = {t: i for i, t in enumerate(self.labels)}
        self.model = TokenTagger.from_encoder(cfg["model"], self.labels, num_layers=cfg["encoder_layers"])

        # 2. Data: corpora are read and encoded once per process (cheap next to training).
        self.pieces = WordPieceCache(self.tokenizer)
        with acc.main_process_first():
            train, self.train_windows = self.load_and_encode(cfg["train"], cfg["train_limit"], cfg["capitalise_prob"])
        # Instance re-weighting (frequency feature bias): one weight per training sentence.
        weights = self.sentence_weights(train) if cfg["reweight"] != "none" else None
        self.sampler = LengthGroupedBatchSampler(
            [len(w.input_ids) for w in self.train_windows], cfg["batch_size"], seed=cfg["seed"]
        )
        loader = DataLoader(
            self.train_windows,
            batch_sampler=self.sampler,
            collate_fn=lambda b: with_word_weights(collate_windows(b, self.tokenizer.pad_token_id), b, weights),
            # The loader's own generator: starting an epoch (or a resumed one) must not draw from the
            # global RNG that dropout uses, or a resumed run would see different dropout masks.
            generator=torch.Generator().manual_seed(cfg["seed"]),
        )

        # 3. Optimizer over the trainable groups only, linear warmup then decay.
        groups = transfer_param_groups(
            self.model,
            lr=cfg["lr"],
            head_lr=cfg["head_lr"],
            layer_decay=cfg["layer_decay"],
            weight_decay=cfg["weight_decay"],
            freeze_embeddings=cfg["freeze_embeddings"],
            freeze_layers=cfg["freeze_layers"],
        )
        optimizer = torch.optim.AdamW(groups, lr=cfg["lr"])
        steps = math.ceil(len(self.sampler) / cfg["gradient_accumulation_steps"]) * cfg["epochs"]
        scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg["warmup_ratio"] * steps), steps)

        # 4. One prepare call: devices, DDP wrapping, sharded batches, mixed precision.
        self.model, self.optimizer, self.loader, self.scheduler = acc.prepare(self.model, optimizer, loader, scheduler)
        # Steps this process will take (the scheduler above counts all processes' batches).
        self.total_steps = math.ceil(len(self.loader) / cfg["gradient_accumulation_steps"]) * cfg["epochs"]
        self.state = {"epoch": 0, "batches_done": 0, "step": 0}
        self.averager = None
        if cfg["average_weights"]:
            start = max(1, int(cfg["average_from"] * self.total_steps))
            self.averager = WeightAverager(acc.unwrap_model(self.model), start_step=start, every=cfg["average_every"])
            acc.register_for_checkpointing(self.averager)  # saved and restored with the run
        self.resume_if_possible()

    def sentence_weights(self, train) -> torch.Tensor:
        """Density-ratio weights p_target(x) / p_source(x) per training sentence, estimated on the
        pretrained encoder's mean-pooled sentence embeddings (mean 1, clipped)."""
        from xdomain_nlp.encoders import embed_texts, load_encoder
        from xdomain_nlp.shift import ESTIMATORS

        cfg = self.cfg
        if cfg["reweight"] not in ESTIMATORS:
            raise ValueError(f"reweight={cfg['reweight']!r}: choose none or one of {sorted(ESTIMATORS)}")
        if not cfg["reweight_target"]:
            raise ValueError("reweight needs reweight_target: unlabelled target text as a corpus spec")
        target = load_corpus(cfg["reweight_target"])
        if len(target) > cfg["reweight_target_sample"]:
            target = target.shuffle(seed=cfg["seed"]).select(range(cfg["reweight_target_sample"]))
        dtype = inference_dtype(self.accelerator.device, cfg["infer_precision"])

        encoder = load_encoder(cfg["model"])  # the pretrained encoder, loaded once for both sides

        def embed(corpus):
            texts = corpus["text"] if "text" in corpus.column_names else [" ".join(w) for w in corpus["words"]]
            return embed_texts(
                cfg["model"],
                texts,
                encoder=encoder,
                tokenizer=self.tokenizer,
                autocast_dtype=dtype,
                device=str(self.accelerator.device),
            )

        kwargs = {"clip": cfg["reweight_clip"] or None, **({"seed": cfg["seed"]} if cfg["reweight"] != "kmm" else {})}
        estimator = ESTIMATORS[cfg["reweight"]](**kwargs).fit(embed(train), embed(target))
        self.reweighting = {
            "method": cfg["reweight"],
            "effective_sample_size": round(estimator.effective_sample_size_, 1),
            "sentences": len(train),
            "max_weight": round(float(estimator.weights_.max()), 3),
        }
        self.accelerator.print(f"instance weights: {self.reweighting}")
        return torch.as_tensor(estimator.weights_, dtype=torch.float32)

    def load_and_encode(self, spec: str | list[str], limit: int = 0, capitalise: float = 0.0):
        """A corpus (its first ``limit`` sentences when set) and its encoder windows."""
        corpus = load_corpora(spec)
        if limit:
            corpus = corpus.select(range(min(limit, len(corpus))))
        if capitalise:
            noisy = capitalisation_noise([list(w) for w in corpus["words"]], capitalise, self.cfg["seed"])
            corpus = corpus.remove_columns("words").add_column("words", noisy)
        windows = encode_corpus(
            corpus,
            self.tokenizer,
            label_column=self.cfg["label_column"],
            label2id=self.label2id,
            max_length=self.cfg["max_length"],
            overlap=self.cfg["window_overlap"],
            cache=self.pieces,
            source=spec if isinstance(spec, str) else " + ".join(spec),
        )
        return corpus, windows

    def resume_if_possible(self) -> None:
        """Continue from the newest complete checkpoint in ``output_dir/checkpoints``."""
        ckpts = sorted((self.out / "checkpoints").glob("step_*"), key=lambda p: int(p.name.split("_")[1]))
        ckpts = [c for c in ckpts if (c / "progress.json").is_file()]
        if not ckpts:
            return
        self.accelerator.load_state(str(ckpts[-1]))
        self.state = json.loads((ckpts[-1] / "progress.json").read_text())
        self.accelerator.print(f"resumed from {ckpts[-1]} at {self.state}")

    def save_checkpoint(self) -> None:
        path = self.out / "checkpoints" / f"step_{self.state['step']}"
        self.accelerator.save_state(str(path))
        if self.accelerator.is_main_process:
            (path / "progress.json").write_text(json.dumps(self.state))
            # A checkpoint holds the whole model and optimizer state: keep only the newest few.
            done = sorted(path.parent.glob("step_*"), key=lambda p: int(p.name.split("_")[1]))
            for old in done[: -self.cfg["keep_checkpoints"]]:
                shutil.rmtree(old)
        self.accelerator.wait_for_everyone()

    def train(self) -> bool:
        """The loop. Returns False when stopped early by ``stop_after_steps``."""
        cfg, acc = self.cfg, self.accelerator
        self.model.train()
        started, words_seen = time.perf_counter(), 0
        bar = tqdm(
            total=self.total_steps, initial=self.state["step"], disable=not acc.is_local_main_process, desc="train"
        )
        for epoch in range(self.state["epoch"], cfg["epochs"]):
            loader = self.loader
            if self.state["batches_done"]:
                loader = acc.skip_first_batches(self.loader, self.state["batches_done"])
            # The batch order is a function of (seed, epoch). accelerate hands its own epoch count to
            # the sampler when iteration starts, so set both: a resumed run must count like the original.
            self.sampler.set_epoch(epoch)
            loader.set_epoch(epoch)
            for batch in loader:
                with acc.accumulate(self.model):
                    logits = self.model(batch["input_ids"], batch["attention_mask"], batch["word_index"])
                    if "weights" in batch:  # each word counts as much as its sentence's weight
                        losses = torch.nn.functional.cross_entropy(logits.float(), batch["labels"], reduction="none")
                        loss = (losses * batch["weights"]).sum() / batch["weights"].sum().clamp_min(1e-8)
                    else:
                        loss = torch.nn.functional.cross_entropy(logits.float(), batch["labels"])
                    acc.backward(loss)
                    if acc.sync_gradients:
                        acc.clip_grad_norm_(self.model.parameters(), cfg["max_grad_norm"])
                    self.optimizer.step()
                    self.scheduler.step()
                    self.optimizer.zero_grad()
                self.state["batches_done"] += 1
                words_seen += int(batch["labels"].numel())
                if acc.sync_gradients:
                    self.state["step"] += 1
                    if self.averager is not None:
                        self.averager.update(acc.unwrap_model(self.model), self.state["step"])
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.3f}")
                    if cfg["checkpoint_every"] and self.state["step"] % cfg["checkpoint_every"] == 0:
                        self.save_checkpoint()
                    if cfg["stop_after_steps"] and self.state["step"] >= cfg["stop_after_steps"]:
                        self.save_checkpoint()
                        bar.close()
                        return False
            self.state.update(epoch=epoch + 1, batches_done=0)
            if cfg["eval_each_epoch"]:
                scores = self.evaluate(cfg["eval_each_epoch"], write=False)
                self.state.setdefault("history", []).append(
                    {"epoch": epoch + 1, **{k: round(r["accuracy"], 2) for k, r in scores.items()}}
                )
                self.model.train()
            self.save_checkpoint()
        bar.close()
        if self.averager is not None:
            self.averager.copy_to(acc.unwrap_model(self.model))
            acc.print(f"weights: average of {self.averager.count} snapshots from step {self.averager.start_step}")
        self.train_seconds = time.perf_counter() - started
        self.train_words_per_s = words_seen * acc.num_processes / max(self.train_seconds, 1e-9)
        return True

    def add_convention(self) -> dict:
        """Fit the convention head on relabelled training sentences; its scores on convention_eval."""
        cfg, acc = self.cfg, self.accelerator
        if not acc.is_main_process:
            acc.wait_for_everyone()
            return {}
        model = acc.unwrap_model(self.model)
        train = load_corpora(cfg["train"])
        _, changed = fit_convention_head(
            model,
            self.tokenizer,
            train,
            cfg["convention"],
            cfg["convention_rules"],
            sentences=cfg["convention_sentences"],
            seed=cfg["seed"],
            autocast_dtype=inference_dtype(acc.device, cfg["infer_precision"]),
        )
        acc.print(f"convention {cfg['convention']!r}: relabelled training words {dict(changed)}")
        results = self.evaluate(cfg["convention_eval"], tag_set=cfg["convention"])
        return {"name": cfg["convention"], "rules": cfg["convention_rules"], "changed": changed, "results": results}

    def evaluate(self, specs: list[str] | None = None, write: bool = True, tag_set: str | None = None) -> dict:
        """Score eval corpora on the main process (with ``tag_set``'s head if given); write confusion PNGs."""
        cfg, acc = self.cfg, self.accelerator
        results = {}
        if acc.is_main_process:
            model = acc.unwrap_model(self.model)
            dtype = inference_dtype(acc.device, cfg["infer_precision"])
            for spec in cfg["eval"] if specs is None else specs:
                corpus, windows = self.load_and_encode(spec, cfg["eval_limit"])
                start = time.perf_counter()
                pred, _ = predict_windows(
                    model,
                    windows,
                    len(corpus),
                    pad_id=self.tokenizer.pad_token_id,
                    max_tokens=cfg["eval_max_tokens"],
                    device=acc.device,
                    autocast_dtype=dtype,
                    tag_set=tag_set,
                )
                seconds = time.perf_counter() - start
                gold = [[self.label2id[t] for t in tags] for tags in corpus[cfg["label_column"]]]
                report = tagging_report(gold, pred, self.labels)
                report["words_per_s"] = report["words"] / seconds
                what = f"UPOS ({tag_set} conventions)" if tag_set else "UPOS"
                if write:
                    name = spec.replace(":", "_") + (f"_{tag_set}" if tag_set else "")
                    save_confusion_png(
                        report, self.out / f"confusion_{name}.png", f"{spec}: {what} {report['accuracy']:.2f}"
                    )
                results[spec] = report
                acc.print(f"{spec}: {what} accuracy {report['accuracy']:.2f} on {report['words']} words")
        acc.wait_for_everyone()
        return results

    def save(self, results: dict, convention: dict | None = None) -> None:
        acc = self.accelerator
        if acc.is_main_process:
            summary = {spec: round(r["accuracy"], 2) for spec, r in results.items()}
            extra = {"tag_set": "upos", "train": self.cfg["train"], "config": self.cfg, "metrics": summary}
            if convention:  # the scores of the convention head, by tag set
                scores = {spec: round(r["accuracy"], 2) for spec, r in convention["results"].items()}
                extra["metrics_by_tag_set"] = {convention["name"]: scores}
            acc.unwrap_model(self.model).save(self.out / "model", self.tokenizer, extra)
            write_json(
                {
                    "config": self.cfg,
                    "results": results,
                    "run": run_record(),
                    "history": self.state.get("history", []),
                    "train_words_per_s": getattr(self, "train_words_per_s", None),
                    "reweighting": getattr(self, "reweighting", None),
                    "convention": convention,
                },
                self.out / "metrics.json",
            )
        acc.wait_for_everyone()


def main(argv: list[str] | None = None) -> dict:
    recipe = POSTransferRecipe(parse_recipe_args(__doc__, DEFAULTS, argv))
    recipe.setup()
    if not recipe.train():
        recipe.accelerator.print(f"stopped after {recipe.state['step']} steps; run again to resume")
        return {}
    results = recipe.evaluate()
    convention = recipe.add_convention() if recipe.cfg["convention"] else None
    recipe.save(results, convention)
    recipe.accelerator.end_training()
    return results


if __name__ == "__main__":
    main()
