"""Benchmark the spaCy path and `xdomain_nlp.load(...).predict` against a plain transformers loop.

    python benchmarks/spacy_tagger.py --model runs/benchmark_pos_en_de/model

Both tag German GSD test (16,499 words) with the same saved tagger, one after the other in one
process. The plain loop is what a transformers example does (sentences in file order, batches of
32 padded to their longest member, fp32, first-subword predictions). The spaCy path gets Docs
built from the corpus words (so tokens are the treebank's), with the component's defaults.
Accuracy of the spaCy path (``nlp.evaluate``) is compared with the package's own evaluation of
the same model at the same precision. The Python path (`xdomain_nlp.load(model).predict` on the
corpus words, component-equal precision) is timed the same way, its accuracy computed from the tags
it returns, and `xdomain-nlp evaluate` is run on the same corpus. Writes benchmarks/results/spacy.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Example

from xdomain_nlp.data import load_corpus
from xdomain_nlp.tagging import encode_corpus, load_tagger, predict_windows
from xdomain_nlp.training import inference_dtype, run_record, tagging_report

REPO = Path(__file__).resolve().parents[1]


def plain_inference():
    """The plain loop of benchmarks/pos_en_de.py (a file name the recipe shares, so load it by path)."""
    spec = importlib.util.spec_from_file_location("pos_en_de_benchmark", REPO / "benchmarks/pos_en_de.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.time_plain_inference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(REPO / "runs/benchmark_pos_en_de/model"))
    parser.add_argument("--corpus", default="ud:de_gsd:test")
    parser.add_argument("--precision", default="auto", help="the component's precision (auto = bf16 where native)")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/spacy.json"))
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    corpus = load_corpus(args.corpus)
    model, tokenizer, _ = load_tagger(args.model)

    # 1. The plain transformers loop.
    plain = plain_inference()(args.model, tokenizer, corpus, batch_size=32)

    # 2. spaCy: nlp.pipe over Docs of the corpus words.
    nlp = spacy.blank("de")
    nlp.add_pipe("xdomain_tagger", config={"model": args.model, "device": "cpu", "precision": args.precision})
    nlp.initialize()
    docs = [Doc(nlp.vocab, words=list(words)) for words in corpus["words"]]
    start = time.perf_counter()
    tagged = list(nlp.pipe(docs))
    spacy_seconds = time.perf_counter() - start
    words = sum(len(d) for d in tagged)
    examples = [
        Example(doc, Doc(nlp.vocab, words=list(w), pos=list(p)))
        for doc, w, p in zip(tagged, corpus["words"], corpus["upos"])
    ]
    spacy_accuracy = 100 * nlp.get_pipe("xdomain_tagger").score(examples)["pos_acc"]

    # 2b. The same through a saved pipeline read back with spacy.load (the weights travel with it).
    with tempfile.TemporaryDirectory() as tmp:
        nlp.to_disk(tmp)
        loaded = spacy.load(tmp)
        reloaded = list(loaded.pipe(Doc(loaded.vocab, words=list(w)) for w in corpus["words"]))
        examples = [
            Example(doc, Doc(loaded.vocab, words=list(w), pos=list(p)))
            for doc, w, p in zip(reloaded, corpus["words"], corpus["upos"])
        ]
        loaded_accuracy = 100 * loaded.get_pipe("xdomain_tagger").score(examples)["pos_acc"]

    # 3. The package's own evaluation of the same model, same precision.
    label2id = {t: i for i, t in enumerate(model.labels)}
    windows = encode_corpus(corpus, tokenizer, label_column="upos", label2id=label2id, max_length=256)
    dtype = inference_dtype("cpu", args.precision)
    pred, _ = predict_windows(
        model, windows, len(corpus), pad_id=tokenizer.pad_token_id, max_tokens=16384, autocast_dtype=dtype
    )
    native = tagging_report([[label2id[t] for t in s] for s in corpus["upos"]], pred, model.labels)["accuracy"]

    # 4. The Python API: load(...).predict on the same words, and the CLI's evaluate on the same corpus.
    import contextlib
    import io

    import xdomain_nlp
    from xdomain_nlp.cli import main as cli

    tagger = xdomain_nlp.load(args.model, device="cpu", precision=args.precision)
    start = time.perf_counter()
    results = tagger.predict([list(w) for w in corpus["words"]], progress=False)
    predict_seconds = time.perf_counter() - start
    right = sum(p == g for r, gold in zip(results, corpus["upos"]) for p, g in zip(r["tags"], gold))
    predict_accuracy = 100 * right / words
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli(["evaluate", args.model, args.corpus, "--precision", args.precision])
    cli_accuracy = json.loads(printed.getvalue())["accuracy"]

    result = {
        "predict_words_per_s_ratio_vs_spacy": round(words / predict_seconds / (words / spacy_seconds), 2),
        "predict_vs_cli_evaluate_accuracy_diff": round(round(predict_accuracy, 2) - cli_accuracy, 2),
        "spacy_words_per_s_ratio_vs_plain": round(words / spacy_seconds / plain["words_per_s"], 2),
        "spacy_vs_native_accuracy_diff": round(spacy_accuracy - native, 2),
        "words_per_s": {
            "spacy_pipe": round(words / spacy_seconds, 1),
            "load_predict": round(words / predict_seconds, 1),
            "plain": round(plain["words_per_s"], 1),
        },
        "upos_accuracy": {
            "spacy": round(spacy_accuracy, 2),
            "spacy_load_saved_pipeline": round(loaded_accuracy, 2),
            "native": round(native, 2),
            "load_predict": round(predict_accuracy, 2),
            "cli_evaluate": cli_accuracy,
            "plain_fp32": round(plain["accuracy"], 2),
        },
        "words": words,
        "corpus": args.corpus,
        "model": args.model,
        "spacy_precision": str(dtype or torch.float32),
        "spacy_version": spacy.__version__,
        **run_record("python benchmarks/spacy_tagger.py " + " ".join(sys.argv[1:])),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
