"""Go on with the encoder's masked-LM pretraining on unlabelled source and target text.

    python recipes/adapt_encoder_mlm.py --config recipes/configs/adapt_encoder_mlm_food_movie.yaml
    accelerate launch recipes/adapt_encoder_mlm.py --config recipes/configs/adapt_encoder_mlm_food_movie.yaml

Writes ``output_dir/encoder``, a plain encoder directory: give it to any other recipe as
``model=runs/.../encoder`` (for example the Food -> Movie sentiment recipe). Only the texts of
the corpora are read, never their labels. A share of the texts is held out and masked once, so
the held-out loss before and after is a like-for-like measure of how well the encoder now
models both domains.
"""

from __future__ import annotations

import random

import torch
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.configs import AdaptEncoderMLMConfig
from xdomain_nlp.data import load_corpus
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.encoders.mlm import collate_masked, load_masked_lm, save_adapted_encoder, text_windows
from xdomain_nlp.errors import run_for_people
from xdomain_nlp.training import (
    TokenBudgetBatchSampler,
    checkpoint_dir,
    finish_run,
    fit,
    loader_settings,
    lr_scale,
    make_accelerator,
    make_optimizer,
    parse_recipe_args,
    stopped_early,
    train_batches,
    transfer_param_groups,
)


@torch.no_grad()
def heldout_loss(model, batches: list[dict], device) -> dict:
    """Mean masked-piece loss and top-1 accuracy over fixed, pre-masked batches."""
    model.eval()
    loss = correct = predicted = 0.0
    for batch in batches:
        out = model(**{k: v.to(device) for k, v in batch.items()})
        loss += out["loss"].item() * out["predicted"]
        correct += out["correct"].item()
        predicted += out["predicted"]
    model.train()
    return {"loss": round(loss / predicted, 4), "accuracy": round(100 * correct / predicted, 2),
            "pieces": int(predicted)}  # fmt: skip


class AdaptEncoderRecipe:
    """`setup` builds the data, model and optimizers, `train` runs both phases (the held-out score is
    measured as it trains), `save` writes the encoder and the record."""

    def __init__(self, cfg: AdaptEncoderMLMConfig) -> None:
        self.cfg = cfg
        # The encoder gets no gradient while the head trains alone: DDP must expect unused parameters.
        self.accelerator = make_accelerator(cfg, find_unused_parameters=True)

    def setup(self) -> None:
        cfg, acc = self.cfg, self.accelerator
        set_seed(cfg.seed)

        # 1. Text windows of every corpus; a held-out share masked once with a fixed generator.
        self.tokenizer = tokenizer = load_tokenizer(cfg.model)
        windows, self.counts = [], {}
        for spec in cfg.unlabelled:
            texts = load_corpus(spec)["text"]
            self.counts[spec] = len(texts)
            windows += text_windows(texts, tokenizer, cfg.max_length, cfg.window_overlap, source=spec)
        random.Random(cfg.seed).shuffle(windows)
        self.n_heldout = round(cfg.heldout_share * len(windows))
        heldout, self.train_windows = windows[: self.n_heldout], windows[self.n_heldout :]
        special = set(tokenizer.all_special_ids)
        self.vocab_ids = vocab_ids = torch.tensor(sorted({i for w in windows for i in w} - special))
        fixed = torch.Generator().manual_seed(cfg.seed)
        self.heldout_batches = [
            collate_masked(heldout[i : i + 64], tokenizer, vocab_ids, cfg.mask_prob, fixed)
            for i in range(0, len(heldout), 64)
        ]
        self.sampler = train_batches(cfg, acc, [len(w) for w in self.train_windows], seed=cfg.seed)
        loader = DataLoader(
            self.train_windows, batch_sampler=self.sampler, generator=torch.Generator().manual_seed(cfg.seed),
            collate_fn=lambda batch: collate_masked(batch, tokenizer, vocab_ids, cfg.mask_prob),
            **loader_settings(acc, workers=False),  # the masks are drawn in the main process
        )  # fmt: skip

        # 2. Encoder + head. A new head (e5 ships none) is first trained alone on the frozen encoder
        # (its held-out score then measures the unadapted encoder), so that the encoder never takes
        # the gradients of a random head; then both train, the encoder slowly.
        model, self.pretrained_head = load_masked_lm(cfg.model, vocab_ids.tolist())
        acc.print(f"{cfg['model']}: {'its pretrained' if self.pretrained_head else 'a new'} masked-LM head")
        self.lr_scale = scale = lr_scale(cfg, acc, self.sampler)  # > 1 for token budgets above batch_size sentences
        groups = transfer_param_groups(
            model, lr=cfg.lr * scale, head_lr=cfg.head_lr * scale, layer_decay=cfg.layer_decay,
            weight_decay=cfg.weight_decay, freeze_embeddings=cfg.freeze_embeddings,
        )  # fmt: skip
        self.encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
        # The tied word embeddings belong to the encoder, not to the head's optimizer.
        head_params = [p for n, p in model.head.named_parameters() if not n.startswith("embeddings.")]
        head_optimizer = make_optimizer(head_params, cfg.head_lr * scale, acc)
        optimizer = make_optimizer(groups, cfg.lr * scale, acc)
        # A prepared scheduler advances once per process and step.
        scheduler = get_linear_schedule_with_warmup(
            optimizer, int(cfg.warmup_ratio * cfg.steps) * acc.num_processes, cfg.steps * acc.num_processes
        )
        self.model, self.head_optimizer, self.optimizer, self.loader, self.scheduler = acc.prepare(
            model, head_optimizer, optimizer, loader, scheduler
        )

    def train(self) -> bool:
        """The shared loop, once per phase: the head alone, then encoder and head; False when
        stopped early by ``stop_after_steps`` (run again to resume)."""
        cfg, acc = self.cfg, self.accelerator
        self.curve, seen, self.train_seconds, self.speed = [], 0, 0.0, {}
        for phase, steps, opt, sched in (("head", cfg.head_only_steps, self.head_optimizer, None),
                                         ("adapt", cfg.steps, self.optimizer, self.scheduler)):  # fmt: skip
            if not steps:
                continue
            for param in self.encoder_params:
                param.requires_grad_(phase == "adapt")

            def score_heldout(step: int, phase: str = phase, steps: int = steps) -> None:
                if self.heldout_batches and (step % cfg.eval_every == 0 or step == steps):
                    scores = heldout_loss(self.model, self.heldout_batches, acc.device)
                    self.curve.append({"phase": phase, "step": step, **scores})
                    acc.print(f"{phase} step {step}: held-out {self.curve[-1]}")

            result = fit(
                self.model, opt, self.loader, lambda model, batch: model(**batch)["loss"], accelerator=acc,
                scheduler=sched, max_steps=steps, max_grad_norm=cfg.max_grad_norm,
                checkpoints=checkpoint_dir(cfg, phase), checkpoint_every=cfg.checkpoint_every,
                stop_after_steps=cfg.stop_after_steps, on_step=score_heldout, desc=phase, log_every=cfg.log_every,
            )  # fmt: skip
            if stopped_early(result, acc, f" in phase {phase}"):
                return False
            seen, self.train_seconds = seen + result.state.step, self.train_seconds + result.seconds
            self.speed[phase] = {"train_seconds": result.train_seconds, "train_pieces_per_s": result.pieces_per_s}
        per_batch = (
            self.sampler.mean_items_per_batch() if isinstance(self.sampler, TokenBudgetBatchSampler) else cfg.batch_size
        )
        self.epochs_seen = round(seen * per_batch / len(self.train_windows), 2)
        return True

    def save(self) -> dict:
        """The adapted encoder, metrics.json (the held-out curve as results), and the end of the run."""
        acc = self.accelerator
        result = {"unlabelled": self.counts, "windows": {"train": len(self.train_windows), "heldout": self.n_heldout},
                  "head_vocabulary": len(self.vocab_ids), "pretrained_head": self.pretrained_head,
                  "epochs_seen": self.epochs_seen, "heldout": self.curve}  # fmt: skip
        finish_run(
            self.cfg, result, accelerator=acc, train_seconds=self.train_seconds, speed=self.speed,
            lr_scale=self.lr_scale,
            save=lambda out: save_adapted_encoder(acc.unwrap_model(self.model), self.tokenizer, out / "encoder"),
        )  # fmt: skip
        return result


def main(argv: list[str] | None = None) -> dict:
    recipe = AdaptEncoderRecipe(parse_recipe_args(__doc__, AdaptEncoderMLMConfig, argv))
    recipe.setup()
    if not recipe.train():
        return {}
    return recipe.save()


if __name__ == "__main__":
    run_for_people(main)
