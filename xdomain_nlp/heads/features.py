"""Word features from a frozen tagger: encoder states and source-tag logits, computed once.

Mapping heads and fresh heads on a frozen encoder only ever see these two tensors, so a corpus
is encoded a single time and any number of heads (k-shot samples, seeds) train on slices of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import torch

from xdomain_nlp.devices import CPU, autocast, model_device, to_device
from xdomain_nlp.labelspace.tagsets import TagSet
from xdomain_nlp.tagging import TokenTagger, collate_windows, encode_corpus, token_budget_batches


@dataclass
class WordFeatures:
    states: torch.Tensor  # (words, hidden): mean of the chosen encoder layers
    source_logits: torch.Tensor  # (words, source tags)
    offsets: list[int]  # sentence i owns rows offsets[i]:offsets[i + 1]

    def rows(self, sentences: list[int]) -> torch.Tensor:
        """Row indices of the words of ``sentences``, in sentence order."""
        return (
            torch.cat([torch.arange(self.offsets[i], self.offsets[i + 1]) for i in sentences])
            if sentences
            else (torch.zeros(0, dtype=torch.long))
        )


@torch.inference_mode()
def word_features(
    model: TokenTagger,
    tokenizer,
    corpus: datasets.Dataset,
    *,
    max_tokens: int = 16384,
    autocast_dtype: torch.dtype | None = None,
    layers: tuple[int, int] = (4, 12),
) -> WordFeatures:
    """Encode every word of ``corpus`` with the frozen tagger (windows for long sentences), on the
    tagger's own device; the features are gathered in host memory, where the heads train on them."""
    model.eval()
    device = model_device(model)
    windows = encode_corpus(corpus, tokenizer, label_column=None, label2id=None)
    lengths = [len(w) for w in corpus["words"]]
    offsets = [0]
    for n in lengths:
        offsets.append(offsets[-1] + n)
    hidden = model.hf.config.hidden_size
    states = torch.zeros(offsets[-1], hidden)
    logits = torch.zeros(offsets[-1], len(model.labels))
    for batch_ids in token_budget_batches([len(w.input_ids) for w in windows], max_tokens):
        batch = [windows[i] for i in batch_ids]
        tensors = to_device(collate_windows(batch, tokenizer.pad_token_id), device)
        with autocast(device, autocast_dtype):
            top, words = model.word_states(
                tensors["input_ids"], tensors["attention_mask"], tensors["word_index"], layers=layers
            )
            source = model.hf.classifier(top)
        rows = torch.tensor([offsets[w.sentence] + i for w in batch for i in w.word_indices])
        states[rows] = words.float().to(CPU)
        logits[rows] = source.float().to(CPU)
    return WordFeatures(states, logits, offsets)


def source_accuracy(
    model: TokenTagger, feats: WordFeatures, corpus: datasets.Dataset, column: str, where: str
) -> float:
    """Accuracy (%) of the tagger's own head on ``corpus[column]``, from features already computed:
    tuning for another tag set moves the encoder under the source head too."""
    tags = TagSet(model.source_tag_set, model.labels)  # in the order of the tagger's outputs
    gold = torch.tensor([tags.id(t, where) for sent in corpus[column] for t in sent])
    return 100.0 * float((feats.source_logits.argmax(-1) == gold).float().mean())
