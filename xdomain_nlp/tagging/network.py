"""The token tagger: a `transformers` token-classification model scored on first subwords only.

Keeping the Hub's own ``*ForTokenClassification`` class means a saved tagger loads with plain
``AutoModelForTokenClassification.from_pretrained``; the forward here gathers the first subword
of each word before the classifier, so no work is spent on positions that carry no label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoModelForTokenClassification, PreTrainedTokenizerBase

from xdomain_nlp.devices import model_device
from xdomain_nlp.encoders.resolve import load_pretrained
from xdomain_nlp.errors import InputError, UnknownNameError
from xdomain_nlp.modeldir import FolderParts, open_model, save_model

MAPPING_HEADS_FILE = "mapping_heads.safetensors"


class TokenTagger(nn.Module):
    """Encoder + linear head over first subwords; ``labels`` names the tag of each output."""

    task = "tagging"
    heads_file = MAPPING_HEADS_FILE

    def __init__(self, hf_model: nn.Module, labels: list[str], source_tag_set: str = "upos") -> None:
        super().__init__()
        if hf_model.config.num_labels != len(labels):
            raise InputError(f"model has {hf_model.config.num_labels} outputs but {len(labels)} labels were given")
        self.hf = hf_model
        self.labels = list(labels)
        self.source_tag_set = source_tag_set
        # Extra label spaces served from the same encoder (see xdomain_nlp.labelspace.mapping_head).
        self.mapping_heads = nn.ModuleDict()
        self.tag_sets: dict[str, Any] = {}

    @classmethod
    def from_encoder(cls, model: str, labels: list[str], num_layers: int = 0) -> TokenTagger:
        """A fresh head on a pretrained encoder (embedded name, local path or Hub id).

        ``num_layers`` keeps only the lowest N encoder layers (0 = all): middle layers of a
        multilingual encoder are the most language-neutral, and a shallower model is faster.
        """
        extra = {"num_hidden_layers": num_layers} if num_layers else {}
        hf, _ = load_pretrained(
            AutoModelForTokenClassification,
            model,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            **extra,
        )
        return cls(hf, labels)

    @property
    def encoder(self) -> nn.Module:
        return self.hf.base_model

    def word_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_index: torch.Tensor,
        layers: tuple[int, int] | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Encoder states of the first subword of each word at ``word_index`` (flat batch x length).

        With ``layers=(a, b)`` also the mean of hidden layers a..b (1 = first encoder layer): the
        middle layers keep the morphology a fine-grained tag set needs, which the top layer of a
        tagger tuned on a coarse tag set has partly given up.
        """
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=layers is not None)
        top = out.last_hidden_state.flatten(0, 1).index_select(0, word_index)
        if layers is None:
            return top
        mixed = torch.stack(out.hidden_states[layers[0] : layers[1] + 1]).mean(0)
        return top, mixed.flatten(0, 1).index_select(0, word_index)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_index: torch.Tensor,
        tag_set: str | None = None,
    ) -> torch.Tensor:
        """Logits for the words at ``word_index``: source labels, or ``tag_set``'s via its mapping head."""
        if tag_set is None or tag_set == self.source_tag_set:
            return self.hf.classifier(self.hf.dropout(self.word_states(input_ids, attention_mask, word_index)))
        if tag_set not in self.mapping_heads:
            raise UnknownNameError(f"no mapping head for tag set {tag_set!r}; this model has {self.available_tag_sets}")
        head = self.mapping_heads[tag_set]
        top, mixed = self.word_states(input_ids, attention_mask, word_index, layers=head.feature_layers)
        return head(mixed, self.hf.classifier(top))

    def forward_tag_sets(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_index: torch.Tensor,
        tag_sets: list[str | None],
    ) -> list[torch.Tensor]:
        """Logits for several tag sets from one encoder pass (the source set is ``None``)."""
        for t in tag_sets:
            if t is not None and t != self.source_tag_set and t not in self.mapping_heads:
                raise UnknownNameError(f"no mapping head for tag set {t!r}; this model has {self.available_tag_sets}")
        heads = [self.mapping_heads[t] for t in tag_sets if t is not None and t != self.source_tag_set]
        layers = {h.feature_layers for h in heads}
        if not heads:
            return [self(input_ids, attention_mask, word_index)] * len(tag_sets)
        if len(layers) > 1:  # heads reading different layers: one pass each is simplest
            return [self(input_ids, attention_mask, word_index, tag_set=t) for t in tag_sets]
        top, mixed = self.word_states(input_ids, attention_mask, word_index, layers=layers.pop())
        source = self.hf.classifier(top)
        return [
            source if t is None or t == self.source_tag_set else self.mapping_heads[t](mixed, source) for t in tag_sets
        ]

    @property
    def available_tag_sets(self) -> list[str]:
        return [self.source_tag_set, *self.mapping_heads]

    def labels_for(self, tag_set: str | None = None) -> list[str]:
        if tag_set is None or tag_set == self.source_tag_set:
            return self.labels
        return self.tag_sets[tag_set].tags

    def add_mapping_head(self, tag_set, head: nn.Module) -> None:
        """Serve ``tag_set`` (a `TagSet`) through ``head`` (a `MappingHead`), moved to this model's device
        (heads are fitted on features in host memory)."""
        self.tag_sets[tag_set.name] = tag_set
        self.mapping_heads[tag_set.name] = head.to(model_device(self))

    def save(self, path: str | Path, tokenizer: PreTrainedTokenizerBase, extra: dict[str, Any] | None = None) -> Path:
        """Write the model folder (see `xdomain_nlp.modeldir`): encoder, tokenizer, heads, ``xdomain.json``."""
        return save_model(self, path, tokenizer, extra)

    def folder_parts(self) -> FolderParts:
        heads = {f"{name}.{k}": v for name, head in self.mapping_heads.items() for k, v in head.state_dict().items()}
        described = {
            name: {**ts.to_dict(), "feature_layers": list(self.mapping_heads[name].feature_layers)}
            for name, ts in self.tag_sets.items()
        }  # fmt: skip
        return FolderParts(
            self.hf, {"labels": self.labels, "tag_set": self.source_tag_set}, heads,
            {"mapping_heads": described or None},
        )  # fmt: skip

    @classmethod
    def from_folder(cls, path: Path, meta: dict[str, Any], heads: dict[str, torch.Tensor]) -> TokenTagger:
        from xdomain_nlp.labelspace import MappingHead, TagSet

        hf = AutoModelForTokenClassification.from_pretrained(path, dtype=torch.float32)  # bf16 when stored so
        tagger = cls(hf, meta["labels"], meta.get("tag_set", "upos"))
        for name, spec in (meta.get("mapping_heads") or {}).items():
            state = {k[len(name) + 1 :]: v for k, v in heads.items() if k.startswith(name + ".")}
            if not state:
                raise InputError(f"{path / MAPPING_HEADS_FILE}: no weights for the mapping head {name!r}")
            spec = dict(spec)
            layers = tuple(spec.pop("feature_layers"))
            head = MappingHead(
                hf.config.hidden_size, state["prior_logits"].exp(), feature_layers=layers, allowed=state.get("allowed")
            )
            head.load_state_dict(state)
            tagger.add_mapping_head(TagSet.from_dict(spec), head)
        return tagger


def load_tagger(
    path: str | Path, *, meta: dict[str, Any] | None = None
) -> tuple[TokenTagger, PreTrainedTokenizerBase, dict[str, Any]]:
    """Load a saved tagger back (a folder or a Hub repo id): model, tokenizer, ``xdomain.json``."""
    return open_model(path, TokenTagger, meta=meta)
