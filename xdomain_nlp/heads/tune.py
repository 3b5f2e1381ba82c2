"""Tuning a tagger's encoder together with a mapping head, on k target sentences or a projected treebank."""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import torch
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from xdomain_nlp.heads.fit import fit_mapping_head
from xdomain_nlp.labelspace import NO_COUNTERPART, PROJECTED_COLUMN, TagSet
from xdomain_nlp.tagging import TokenTagger, collate_windows, encode_corpus
from xdomain_nlp.training import (
    CyclingBatchSampler,
    fit,
    make_accelerator,
    make_optimizer,
    transfer_param_groups,
    weighted_cross_entropy,
)


@dataclass
class TuneSettings:
    """What `make_accelerator` reads, for tuning outside a recipe config."""

    mixed_precision: str = "native"
    gradient_accumulation_steps: int = 1
    output_dir: str = "."
    log_with: str = ""


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
    precision: str = "native",
    max_grad_norm: float = 1.0,
) -> TokenTagger:
    """Tune encoder and heads on labelled target windows; ``tag_set`` picks the head that is scored.

    Word embeddings stay frozen (they hold the target language's pieces where pretraining put
    them); batches cycle through reshuffled windows, so k smaller than a batch still works.
    ``precision="native"`` trains under bf16 autocast where the device runs bf16 natively.
    """
    accelerator = make_accelerator(TuneSettings(mixed_precision=precision))
    set_seed(seed)
    groups = transfer_param_groups(model, lr=lr, head_lr=head_lr, layer_decay=layer_decay)
    optimizer = make_optimizer(groups, lr, accelerator)
    scheduler = get_linear_schedule_with_warmup(optimizer, steps // 10, steps)
    loader = DataLoader(
        windows,
        batch_sampler=CyclingBatchSampler(len(windows), batch_size, steps, seed=seed),
        collate_fn=lambda batch: collate_windows(batch, pad_id),
        generator=torch.Generator().manual_seed(seed),
    )
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)

    def loss(model, batch):
        logits = model(batch["input_ids"], batch["attention_mask"], batch["word_index"], tag_set=tag_set)
        return weighted_cross_entropy(logits, batch["labels"])

    fit(
        model, optimizer, loader, loss, accelerator=accelerator, scheduler=scheduler, max_steps=steps,
        max_grad_norm=max_grad_norm, desc="tune",
    )  # fmt: skip
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
    precision: str = "native",
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
