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


def main(argv: list[str] | None = None) -> dict:
    cfg = parse_recipe_args(__doc__, AdaptEncoderMLMConfig, argv)
    # The encoder gets no gradient while the head trains alone: DDP must expect unused parameters.
    acc = make_accelerator(cfg, find_unused_parameters=True)
    set_seed(cfg.seed)

    # 1. Text windows of every corpus; a held-out share masked once with a fixed generator.
    tokenizer = load_tokenizer(cfg.model)
    windows, counts = [], {}
    for spec in cfg.unlabelled:
        texts = load_corpus(spec)["text"]
        counts[spec] = len(texts)
        windows += text_windows(texts, tokenizer, cfg.max_length, cfg.window_overlap, source=spec)
    random.Random(cfg.seed).shuffle(windows)
    n_heldout = round(cfg.heldout_share * len(windows))
    heldout, train = windows[:n_heldout], windows[n_heldout:]
    vocab_ids = torch.tensor(sorted({i for w in windows for i in w} - set(tokenizer.all_special_ids)))
    fixed = torch.Generator().manual_seed(cfg.seed)
    heldout_batches = [
        collate_masked(heldout[i : i + 64], tokenizer, vocab_ids, cfg.mask_prob, fixed)
        for i in range(0, len(heldout), 64)
    ]
    sampler = train_batches(cfg, acc, [len(w) for w in train], seed=cfg.seed)
    loader = DataLoader(
        train, batch_sampler=sampler, generator=torch.Generator().manual_seed(cfg.seed),
        collate_fn=lambda batch: collate_masked(batch, tokenizer, vocab_ids, cfg.mask_prob),
        **loader_settings(acc, workers=False),  # the masks are drawn in the main process
    )  # fmt: skip

    # 2. Encoder + head. A new head (e5 ships none) is first trained alone on the frozen encoder
    # (its held-out score then measures the unadapted encoder), so that the encoder never takes
    # the gradients of a random head; then both train, the encoder slowly.
    model, pretrained_head = load_masked_lm(cfg.model, vocab_ids.tolist())
    acc.print(f"{cfg['model']}: {'its pretrained' if pretrained_head else 'a new'} masked-LM head")
    scale = lr_scale(cfg, acc, sampler)  # > 1 for token budgets larger than batch_size sentences
    groups = transfer_param_groups(
        model, lr=cfg.lr * scale, head_lr=cfg.head_lr * scale, layer_decay=cfg.layer_decay,
        weight_decay=cfg.weight_decay, freeze_embeddings=cfg.freeze_embeddings,
    )  # fmt: skip
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    # The tied word embeddings belong to the encoder, not to the head's optimizer.
    head_params = [p for n, p in model.head.named_parameters() if not n.startswith("embeddings.")]
    head_optimizer = make_optimizer(head_params, cfg.head_lr * scale, acc)
    optimizer = make_optimizer(groups, cfg.lr * scale, acc)
    # A prepared scheduler advances once per process and step.
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(cfg.warmup_ratio * cfg.steps) * acc.num_processes, cfg.steps * acc.num_processes
    )
    model, head_optimizer, optimizer, loader, scheduler = acc.prepare(
        model, head_optimizer, optimizer, loader, scheduler
    )

    # 3. The shared loop, once per phase: the head alone, then encoder and head.
    curve, seen, seconds, speed = [], 0, 0.0, {}
    for phase, steps, opt, sched in (("head", cfg.head_only_steps, head_optimizer, None),
                                     ("adapt", cfg.steps, optimizer, scheduler)):  # fmt: skip
        if not steps:
            continue
        for param in encoder_params:
            param.requires_grad_(phase == "adapt")

        def score_heldout(step: int, phase: str = phase, steps: int = steps) -> None:
            if heldout_batches and (step % cfg.eval_every == 0 or step == steps):
                curve.append({"phase": phase, "step": step, **heldout_loss(model, heldout_batches, acc.device)})
                acc.print(f"{phase} step {step}: held-out {curve[-1]}")

        result = fit(
            model, opt, loader, lambda model, batch: model(**batch)["loss"], accelerator=acc, scheduler=sched,
            max_steps=steps, max_grad_norm=cfg.max_grad_norm, checkpoints=checkpoint_dir(cfg, phase),
            checkpoint_every=cfg.checkpoint_every, stop_after_steps=cfg.stop_after_steps, on_step=score_heldout,
            desc=phase, log_every=cfg.log_every,
        )  # fmt: skip
        if stopped_early(result, acc, f" in phase {phase}"):
            return {}
        seen, seconds = seen + result.state.step, seconds + result.seconds
        speed[phase] = {"train_seconds": result.train_seconds, "train_pieces_per_s": result.pieces_per_s}
    train_seconds = seconds
    per_batch = sampler.mean_items_per_batch() if isinstance(sampler, TokenBudgetBatchSampler) else cfg.batch_size

    # 4. Save the encoder and the record.
    result = {"unlabelled": counts, "windows": {"train": len(train), "heldout": len(heldout)},
              "head_vocabulary": len(vocab_ids), "pretrained_head": pretrained_head,
              "epochs_seen": round(seen * per_batch / len(train), 2),
              "heldout": curve}  # fmt: skip
    finish_run(
        cfg, result, accelerator=acc, train_seconds=train_seconds, speed=speed, lr_scale=scale,
        save=lambda out: save_adapted_encoder(acc.unwrap_model(model), tokenizer, out / "encoder"),
    )  # fmt: skip
    return result


if __name__ == "__main__":
    run_for_people(main)
