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
import time
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedDataParallelKwargs, set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.data import load_corpus
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.encoders.mlm import collate_masked, load_masked_lm, save_adapted_encoder, text_windows
from xdomain_nlp.training import (
    LengthGroupedBatchSampler,
    parse_recipe_args,
    run_record,
    transfer_param_groups,
    write_json,
)

DEFAULTS = {
    "model": "embedded:multilingual-e5-small",
    "texts": ["sentiment:sst2:train"],  # corpora whose text column is read; labels never are
    "heldout_share": 0.05,
    "output_dir": "runs/adapt_encoder_mlm",
    "seed": 0,
    "head_only_steps": 300,  # the new head alone, on the frozen encoder
    "steps": 700,  # then encoder and head together
    "batch_size": 32,
    "mask_prob": 0.15,
    "lr": 2.0e-5,  # top encoder layer; lower layers get lr * layer_decay**depth
    "head_lr": 1.0e-3,  # the prediction head starts from scratch
    "layer_decay": 1.0,
    "weight_decay": 0.01,
    "warmup_ratio": 0.06,
    "max_grad_norm": 1.0,
    "freeze_embeddings": True,  # keeps the word embeddings (and so the tied output layer) as pretrained
    "max_length": 128,  # pieces per window; longer texts become overlapping windows
    "window_overlap": 32,
    "eval_every": 250,
    "mixed_precision": "auto",
}


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
    cfg = parse_recipe_args(__doc__, DEFAULTS, argv)
    if not 0.0 <= cfg["heldout_share"] < 1.0:
        raise ValueError(f"heldout_share must be in [0, 1), got {cfg['heldout_share']}")
    precision = cfg["mixed_precision"]
    if precision == "auto":
        precision = "bf16" if torch.cuda.is_available() else "no"
    # The encoder gets no gradient while the head trains alone: DDP must expect unused parameters.
    acc = Accelerator(
        mixed_precision=precision, kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)]
    )
    set_seed(cfg["seed"])
    out = Path(cfg["output_dir"])

    # 1. Text windows of every corpus; a held-out share masked once with a fixed generator.
    tokenizer = load_tokenizer(cfg["model"])
    windows, counts = [], {}
    for spec in cfg["texts"]:
        texts = load_corpus(spec)["text"]
        counts[spec] = len(texts)
        windows += text_windows(texts, tokenizer, cfg["max_length"], cfg["window_overlap"], source=spec)
    random.Random(cfg["seed"]).shuffle(windows)
    n_heldout = round(cfg["heldout_share"] * len(windows))
    heldout, train = windows[:n_heldout], windows[n_heldout:]
    vocab_ids = torch.tensor(sorted({i for w in windows for i in w} - set(tokenizer.all_special_ids)))
    fixed = torch.Generator().manual_seed(cfg["seed"])
    heldout_batches = [
        collate_masked(heldout[i : i + 64], tokenizer, vocab_ids, cfg["mask_prob"], fixed)
        for i in range(0, len(heldout), 64)
    ]
    sampler = LengthGroupedBatchSampler([len(w) for w in train], cfg["batch_size"], seed=cfg["seed"])
    loader = DataLoader(
        train, batch_sampler=sampler,
        collate_fn=lambda batch: collate_masked(batch, tokenizer, vocab_ids, cfg["mask_prob"]),
    )  # fmt: skip

    # 2. Encoder + head. A new head (e5 ships none) is first trained alone on the frozen encoder
    # (its held-out score then measures the unadapted encoder), so that the encoder never takes
    # the gradients of a random head; then both train, the encoder slowly.
    model, pretrained_head = load_masked_lm(cfg["model"], vocab_ids.tolist())
    acc.print(f"{cfg['model']}: {'its pretrained' if pretrained_head else 'a new'} masked-LM head")
    groups = transfer_param_groups(
        model, lr=cfg["lr"], head_lr=cfg["head_lr"], layer_decay=cfg["layer_decay"],
        weight_decay=cfg["weight_decay"], freeze_embeddings=cfg["freeze_embeddings"],
    )  # fmt: skip
    encoder_params = [p for p in model.encoder.parameters() if p.requires_grad]
    # The tied word embeddings belong to the encoder, not to the head's optimizer.
    head_params = [p for n, p in model.head.named_parameters() if not n.startswith("embeddings.")]
    head_optimizer = torch.optim.AdamW(head_params, lr=cfg["head_lr"])
    optimizer = torch.optim.AdamW(groups, lr=cfg["lr"])
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg["warmup_ratio"] * cfg["steps"]), cfg["steps"])
    model, head_optimizer, optimizer, loader, scheduler = acc.prepare(
        model, head_optimizer, optimizer, loader, scheduler
    )

    def batches():
        """The loader over and over: small corpora are seen several times."""
        epoch = 0
        while True:
            sampler.set_epoch(epoch)
            loader.set_epoch(epoch)
            yield from loader
            epoch += 1

    # 3. The loops: the head alone, then encoder and head.
    curve, stream, seen = [], batches(), 0
    started = time.perf_counter()
    for phase, steps, opt, sched in (("head", cfg["head_only_steps"], head_optimizer, None),
                                     ("adapt", cfg["steps"], optimizer, scheduler)):  # fmt: skip
        for param in encoder_params:
            param.requires_grad_(phase == "adapt")
        model.train()
        for step in tqdm(range(1, steps + 1), disable=not acc.is_local_main_process, desc=phase):
            loss = model(**next(stream))["loss"]
            acc.backward(loss)
            acc.clip_grad_norm_(model.parameters(), cfg["max_grad_norm"])
            opt.step()
            if sched is not None:
                sched.step()
            opt.zero_grad()
            seen += 1
            if heldout_batches and (step % cfg["eval_every"] == 0 or step == steps):
                curve.append({"phase": phase, "step": step, **heldout_loss(model, heldout_batches, acc.device)})
                acc.print(f"{phase} step {step}: held-out {curve[-1]}")
    train_seconds = time.perf_counter() - started

    # 4. Save the encoder and the record.
    result = {"texts": counts, "windows": {"train": len(train), "heldout": len(heldout)},
              "head_vocabulary": len(vocab_ids), "pretrained_head": pretrained_head,
              "epochs_seen": round(seen * cfg["batch_size"] / len(train), 2),
              "heldout": curve}  # fmt: skip
    if acc.is_main_process:
        save_adapted_encoder(acc.unwrap_model(model), tokenizer, out / "encoder")
        write_json({"config": cfg, "results": result, "run": run_record(), "train_seconds": train_seconds},
                   out / "metrics.json")  # fmt: skip
    acc.wait_for_everyone()
    acc.end_training()
    return result


if __name__ == "__main__":
    main()
