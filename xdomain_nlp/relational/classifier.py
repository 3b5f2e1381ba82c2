"""Sentence classifier over the dependency graph: encoder -> relational layers -> pooled -> label.

With ``graph_layers=0`` it is the plain fine-tuned classifier on the same word states and the
same pooling, which makes "relational vs plain" a comparison of the graph layers alone.
``pooling="edges"`` makes the parse a bottleneck: the sentence is pooled from one vector per
head -> dependent arc of the chosen relation types (head state, dependent state, relation),
so the label must be read off how words relate rather than off any single word.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from xdomain_nlp.devices import CPU, model_device, to_device
from xdomain_nlp.encoders import load_encoder
from xdomain_nlp.errors import InputError
from xdomain_nlp.modeldir import FolderParts, load_heads, open_model, save_model
from xdomain_nlp.relational.layers import RelationalGraphLayer
from xdomain_nlp.relational.relations import OPINION_RELATIONS, RELATION_TYPES

CLASSIFIER_HEAD_FILE = "graph_classifier.safetensors"


POOLINGS = ("words", "edges")


class GraphSentenceClassifier(nn.Module):
    """Encoder words joined by their dependency graph -> relational layers -> pooled -> class scores."""

    task = "graph-classification"
    heads_file = CLASSIFIER_HEAD_FILE

    def __init__(
        self, encoder: nn.Module, labels: list[str], graph_layers: int = 2, num_bases: int = 8, dropout: float = 0.1,
        pooling: str = "words", pool_relations: Sequence[str] = OPINION_RELATIONS,
    ) -> None:  # fmt: skip
        super().__init__()
        if pooling not in POOLINGS:
            raise InputError(f"pooling: {pooling!r} is not one of {', '.join(POOLINGS)}")
        unknown = [r for r in pool_relations if r not in RELATION_TYPES]
        if unknown:
            raise InputError(f"pool_relations: unknown relation types {unknown}; known: {', '.join(RELATION_TYPES)}")
        dim = encoder.config.hidden_size
        self.encoder = encoder
        self.labels = list(labels)
        self.settings = {
            "graph_layers": graph_layers, "num_bases": num_bases, "dropout": dropout, "pooling": pooling,
            "pool_relations": list(pool_relations),
        }  # fmt: skip
        self.layers = nn.ModuleList(
            RelationalGraphLayer(dim, 2 * len(RELATION_TYPES), num_bases, dropout) for _ in range(graph_layers)
        )
        if pooling == "edges":
            # Over all edge types: the reverse (dependent -> head) types are never pooled.
            pooled = [t in pool_relations for t in RELATION_TYPES] + [False] * len(RELATION_TYPES)
            self.register_buffer("pooled_type", torch.tensor(pooled), persistent=False)
            self.arc = nn.Linear(2 * dim, dim)
            self.relation = nn.Embedding(len(RELATION_TYPES), dim)
        self.attention = nn.Linear(dim, 1)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(2 * dim, len(labels))

    @classmethod
    def from_encoder(cls, model: str, labels: list[str], **kwargs: Any) -> GraphSentenceClassifier:
        return cls(load_encoder(model), labels, **kwargs)

    def word_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, word_index: torch.Tensor):
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return states.flatten(0, 1).index_select(0, word_index)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_index: torch.Tensor,
        sentence_of_word: torch.Tensor,
        n_sentences: int,
        edge_src: torch.Tensor,
        edge_dst: torch.Tensor,
        edge_type: torch.Tensor,
    ) -> torch.Tensor:
        """Logits ``[n_sentences, labels]``; words are flat across the batch, edges index them."""
        h = self.word_states(input_ids, attention_mask, word_index)
        for layer in self.layers:
            h = layer(h, edge_src, edge_dst, edge_type)
        if self.settings["pooling"] == "words":
            return self.out(self.drop(self.pool(h, sentence_of_word, n_sentences)))
        # One vector per head -> dependent arc of a pooled type; a sentence with no such arc
        # (one word, or every arc ablated) is represented by its words instead.
        keep = self.pooled_type[edge_type]
        head, dep, rel = edge_src[keep], edge_dst[keep], edge_type[keep]
        arcs = nn.functional.gelu(self.arc(torch.cat([h[head], h[dep]], -1)) + self.relation(rel))
        sentence_of_arc = sentence_of_word[head]
        has_arc = torch.zeros(n_sentences, dtype=torch.bool, device=h.device)
        has_arc[sentence_of_arc] = True
        words_only = ~has_arc[sentence_of_word]
        units = torch.cat([arcs, h[words_only]])
        unit_sentence = torch.cat([sentence_of_arc, sentence_of_word[words_only]])
        return self.out(self.drop(self.pool(units, unit_sentence, n_sentences)))

    def pool(self, h: torch.Tensor, sentence_of: torch.Tensor, n_sentences: int) -> torch.Tensor:
        """Mean and attention pooling (a softmax within each sentence) of the rows of ``h``.

        Sums and the softmax are taken in fp32: under autocast the attention score comes out in
        bf16 while ``h`` (a LayerNorm's output) is fp32, and ``index_add`` takes one dtype.
        """
        dtype, h = h.dtype, h.float()
        counts = torch.zeros(n_sentences, device=h.device).index_add(0, sentence_of, torch.ones_like(h[:, 0]))
        mean = h.new_zeros(n_sentences, h.shape[1]).index_add(0, sentence_of, h) / counts.clamp(min=1)[:, None]
        score = self.attention(h).squeeze(-1).float()
        score = score - score.max().detach()
        weight = score.exp()
        total = torch.zeros(n_sentences, device=h.device).index_add(0, sentence_of, weight)
        attended = h.new_zeros(n_sentences, h.shape[1]).index_add(0, sentence_of, weight[:, None] * h)
        return torch.cat([mean, attended / total.clamp(min=1e-12)[:, None]], -1).to(dtype)

    def save(self, path: str | Path, tokenizer: PreTrainedTokenizerBase, extra: dict[str, Any] | None = None) -> Path:
        """Encoder in `transformers` format, the rest in ``classifier_head.safetensors``, ``xdomain.json``."""
        return save_model(self, path, tokenizer, extra)

    def folder_parts(self) -> FolderParts:
        head = {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}
        return FolderParts(self.encoder, {"labels": self.labels, **self.settings}, head, {})

    @classmethod
    def from_folder(cls, path: Path, meta: dict[str, Any], heads: dict[str, torch.Tensor]) -> GraphSentenceClassifier:
        model = cls(
            load_encoder(str(path)), meta["labels"], meta["graph_layers"], meta["num_bases"], meta["dropout"],
            meta.get("pooling", "words"), meta.get("pool_relations", OPINION_RELATIONS),
        )  # fmt: skip
        return load_heads(model, heads, path / CLASSIFIER_HEAD_FILE).eval()


def load_graph_classifier(
    path: str | Path, *, meta: dict[str, Any] | None = None
) -> tuple[GraphSentenceClassifier, PreTrainedTokenizerBase, dict]:
    """A saved sentiment model (folder or Hub id): model, tokenizer, ``xdomain.json``."""
    return open_model(path, GraphSentenceClassifier, meta=meta)


def collate_graph_batch(items: Sequence[tuple], pad_id: int) -> dict[str, Any]:
    """``(windows, graph, label)`` items -> encoder tensors, flat word->sentence map, batch edges."""
    from xdomain_nlp.relational.biaffine import collate_sentences
    from xdomain_nlp.relational.graph import batch_graphs

    batch = collate_sentences([windows for windows, _, _ in items], pad_id)
    offsets, sentence_of_word, start = [], [], 0
    for s, n in enumerate(batch["lengths"]):
        offsets.append(start)
        sentence_of_word += [s] * n
        start += n
    for (_, graph, _), n in zip(items, batch["lengths"]):
        if graph.n_words != n:
            raise InputError(f"graph has {graph.n_words} words but the sentence has {n}")
    return {
        **batch,
        **batch_graphs([g for _, g, _ in items], offsets),
        "sentence_of_word": torch.tensor(sentence_of_word, dtype=torch.long),
        "n_sentences": len(items),
        "labels": torch.tensor([label for _, _, label in items], dtype=torch.long),
    }


class GraphCollator:
    """``collate_fn`` of `collate_graph_batch` (an object, so that loader workers can take it)."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, items: Sequence[tuple]) -> dict[str, Any]:
        return collate_graph_batch(items, self.pad_id)


MODEL_INPUTS = ("input_ids", "attention_mask", "word_index", "sentence_of_word", "n_sentences",
                "edge_src", "edge_dst", "edge_type")  # fmt: skip


def model_inputs(batch: dict[str, Any], device: torch.device | str) -> list[Any]:
    on_device = to_device({k: batch[k] for k in MODEL_INPUTS}, device)
    return [on_device[k] for k in MODEL_INPUTS]


@torch.inference_mode()
def predict_proba(
    model: GraphSentenceClassifier, items: Sequence[tuple], *, pad_id: int, max_tokens: int = 16384,
) -> torch.Tensor:  # fmt: skip
    """Class probabilities ``[len(items), labels]``, batched to a token budget on the model's device
    (gathered in host memory)."""
    from xdomain_nlp.training.sampler import token_budget_batches

    was_training = model.training
    model.eval()
    device = model_device(model)
    probs = torch.zeros(len(items), len(model.labels))
    sizes = [sum(len(w.input_ids) for w in windows) for windows, _, _ in items]
    for ids in token_budget_batches(sizes, max_tokens):
        batch = collate_graph_batch([items[i] for i in ids], pad_id)
        probs[ids] = model(*model_inputs(batch, device)).float().softmax(-1).to(CPU)
    model.train(was_training)
    return probs
