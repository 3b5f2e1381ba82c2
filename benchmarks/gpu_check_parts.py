"""The GPU check's measurements that are not recipes: the bare training step, ``predict`` for the
three model kinds, and the three spaCy components (see benchmarks/gpu_check.py)."""

from __future__ import annotations

import time
from pathlib import Path

import torch


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def bare_step(encoder: Path, train: str, repeats: int = 3, limit: int = 0) -> dict:
    """The main job's model, loss and optimizer on the main job's batches (``batch_tokens: auto``),
    already on the device: no loader, scheduler, clipping or accounting. What the loop is set against."""
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.devices import autocast, pick_device
    from xdomain_nlp.encoders import load_tokenizer
    from xdomain_nlp.tagging import UPOS, TokenTagger, WindowCollator, encode_corpus
    from xdomain_nlp.training import GPU_BATCH_TOKENS, TokenBudgetBatchSampler, transfer_param_groups
    from xdomain_nlp.training import weighted_cross_entropy as loss_of

    device = pick_device("auto")
    cuda = device.type == "cuda"
    tokenizer = load_tokenizer(str(encoder))
    corpus = load_corpus(train)
    corpus = corpus.select(range(min(limit, len(corpus)))) if limit else corpus
    windows = encode_corpus(
        corpus, tokenizer, label_column="upos", label2id={t: i for i, t in enumerate(UPOS)}, max_length=256, overlap=64
    )  # fmt: skip
    sampler = TokenBudgetBatchSampler([len(w.input_ids) for w in windows], GPU_BATCH_TOKENS, seed=42)
    collate = WindowCollator(tokenizer.pad_token_id)
    batches = [{k: v.to(device) for k, v in collate([windows[i] for i in b]).items()} for b in sampler.batches()]
    model = TokenTagger.from_encoder(str(encoder), list(UPOS)).to(device).train()
    groups = transfer_param_groups(model, lr=1e-4, head_lr=3e-3, layer_decay=0.9, freeze_embeddings=True)
    optimizer = torch.optim.AdamW(groups, lr=1e-4, fused=cuda or None)
    dtype = torch.bfloat16 if cuda else None

    def step(batch: dict) -> None:
        with autocast(device, dtype):
            logits = model(batch["input_ids"], batch["attention_mask"], batch["word_index"])
        loss_of(logits.float(), batch["labels"]).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for batch in batches:  # warm-up: kernels chosen, memory pooled
        step(batch)
    _sync()
    start = time.perf_counter()
    for _ in range(repeats):
        for batch in batches:
            step(batch)
    _sync()
    seconds = time.perf_counter() - start
    pieces = sum(int(b["attention_mask"].sum()) for b in batches) * repeats
    steps = len(batches) * repeats
    return {
        "batches": len(batches), "batch_tokens": GPU_BATCH_TOKENS,
        "mean_batch_shape": [round(sum(b["input_ids"].shape[d] for b in batches) / len(batches), 1) for d in (0, 1)],
        "ms_per_step": round(1000 * seconds / steps, 2), "pieces_per_s": round(pieces / seconds),
    }  # fmt: skip


def _timed(call):
    _sync()
    start = time.perf_counter()
    out = call()
    _sync()
    return out, time.perf_counter() - start


def predict_tagger(model_dir: Path, copies: int = 20) -> dict:
    """``load(model).predict`` words/s on GSD test repeated ``copies`` times (word lists in, tags out),
    and its accuracy through ``evaluate`` (the same path the CLI scores with)."""
    import xdomain_nlp
    from xdomain_nlp.data import load_corpus

    tagger = xdomain_nlp.load(model_dir)
    corpus = load_corpus("ud:de_gsd:test")
    sentences = [list(w) for w in corpus["words"]]
    tagger.predict(sentences[:64], progress=False)  # warm-up
    out, seconds = _timed(lambda: tagger.predict(sentences * copies, progress=False))
    words = sum(len(s) for s in sentences) * copies
    # bf16 sums depend on what else is in a batch: count the words a copy tags otherwise than the first.
    differ = sum(a != b for i, o in enumerate(out) for a, b in zip(o["tags"], out[i % len(sentences)]["tags"]))
    return {
        "device": str(tagger.device), "sentences": len(out), "words": words, "words_per_s": round(words / seconds),
        "words_tagged_unlike_the_first_copy": differ,
        "de_gsd_test_upos": round(tagger.evaluate(corpus)["accuracy"], 2),
        "de_gsd_test_upos_ud_de": round(tagger.evaluate(corpus, tag_set="ud_de")["accuracy"], 2),
    }  # fmt: skip


def predict_parser_and_sentiment(parser_dir: Path, sentiment_dir: Path) -> dict:
    """``load(...).predict`` for the parser (EWT test word lists) and the sentiment model (SST-2 test texts)."""
    import xdomain_nlp
    from xdomain_nlp.data import load_corpus

    parser = xdomain_nlp.load(parser_dir)
    ewt = load_corpus("ud:en_ewt:test")
    sentences = [list(w) for w in ewt["words"]]
    parsed, seconds = _timed(lambda: parser.predict(sentences, progress=False))
    correct = sum(h == g for p, gold in zip(parsed, ewt["heads"]) for h, g in zip(p["heads"], gold))
    words = sum(len(s) for s in sentences)
    classifier = xdomain_nlp.load(sentiment_dir)
    sst2 = load_corpus("sentiment:sst2:test")
    texts = list(sst2["text"])
    labels, seconds_s = _timed(lambda: classifier.predict(texts, progress=False))
    right = sum((r["label"] == "positive") == (y == 1) for r, y in zip(labels, sst2["label"]))
    return {
        "parser_device": str(parser.device), "precision": str(parser.dtype or "float32").removeprefix("torch."),
        "parser_words_per_s": round(words / seconds),
        "parser_uas": round(100 * correct / words, 2), "sentiment_device": str(classifier.device),
        "sentiment_sentences_per_s": round(len(texts) / seconds_s),
        "sentiment_sst2_test": round(100 * right / len(texts), 2),
    }  # fmt: skip


def spacy_components(tagger_dir: Path, parser_dir: Path, sentiment_dir: Path, n: int = 300) -> dict:
    """The three components in blank pipelines on SST-2 test texts, each set against ``load(...).predict``
    of the same model on the same words."""
    import spacy
    from spacy.language import Language

    import xdomain_nlp
    from xdomain_nlp.data import load_corpus

    texts = list(load_corpus("sentiment:sst2:test")["text"][:n])
    names = ("xdomain_tagger", "xdomain_parser", "xdomain_sentiment")
    by_entry_points = all(Language.has_factory(name) for name in names)
    if not by_entry_points:  # the package is on the path but not installed: its import registers them
        import xdomain_nlp.spacy_pipes  # noqa: F401
    nlp = spacy.blank("en")
    nlp.add_pipe("xdomain_tagger", config={"model": str(tagger_dir)})
    nlp.add_pipe("xdomain_parser", config={"model": str(parser_dir)})
    docs, seconds = _timed(lambda: list(nlp.pipe(texts)))
    words = [[t.text for t in doc if not t.is_space] for doc in docs]
    tags = xdomain_nlp.load(tagger_dir).predict(words, progress=False)
    heads = xdomain_nlp.load(parser_dir).predict(words, progress=False)
    tokens = [[t for t in doc if not t.is_space] for doc in docs]
    tag_pairs = [(t.pos_, p) for ts, r in zip(tokens, tags) for t, p in zip(ts, r["tags"])]
    head_of = lambda t: t.head.i + 1 if t.head.i != t.i else 0  # noqa: E731 - 1-based, 0 = the root
    head_pairs = [(head_of(t), h) for ts, r in zip(tokens, heads) for t, h in zip(ts, r["heads"])]
    nlp_sentiment = spacy.blank("en")
    nlp_sentiment.add_pipe("xdomain_sentiment", config={"model": str(sentiment_dir)})
    cats = [doc.cats for doc in nlp_sentiment.pipe(texts)]
    probs = xdomain_nlp.load(sentiment_dir).predict(texts, progress=False)
    gap = max(abs(c["positive"] - p["probabilities"]["positive"]) for c, p in zip(cats, probs))
    return {
        "factories_from": "entry points" if by_entry_points else "import",
        "device": str(nlp.get_pipe("xdomain_tagger").device), "docs": len(docs),
        "tagger_parser_words_per_s": round(sum(map(len, words)) / seconds),
        "tags_equal_predict": round(sum(a == b for a, b in tag_pairs) / len(tag_pairs), 4),
        "heads_equal_predict": round(sum(a == b for a, b in head_pairs) / len(head_pairs), 4),
        "sentiment_max_probability_gap": round(gap, 6),
    }  # fmt: skip
