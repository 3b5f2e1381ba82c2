"""``xdomain-nlp trim`` and ``xdomain-nlp shrink``: smaller encoders and smaller saved models."""

from __future__ import annotations

import argparse
import json


def corpus_words(specs: list[str]) -> list[str]:
    """Every word of the corpora (a sentiment corpus's texts split on whitespace)."""
    from xdomain_nlp.data import load_corpus

    words: list[str] = []
    for spec in specs:
        corpus = load_corpus(spec)
        if "words" in corpus.column_names:
            words.extend(w for sentence in corpus["words"] for w in sentence)
        else:
            words.extend(w for text in corpus["text"] for w in text.split())
    return words


def training_corpora(meta: dict) -> list[str]:
    """The corpora a model was trained on, as its ``xdomain.json`` names them."""
    train = meta.get("train") or []
    return [train] if isinstance(train, str) else list(train)


def trim(args: argparse.Namespace) -> int:
    from xdomain_nlp.encoders import trim_vocabulary

    words = corpus_words(args.corpora)
    dest = trim_vocabulary(args.model, words, args.dest)
    kept = json.loads((dest / "trim.json").read_text())["kept_pieces"]
    print(f"{dest}: kept {kept} pieces for {len(set(words))} distinct words")
    return 0


def shrink(args: argparse.Namespace) -> int:
    from xdomain_nlp.encoders.trim import scripts_of
    from xdomain_nlp.modeldir import read_model_meta
    from xdomain_nlp.modeldir.download import local_model_dir
    from xdomain_nlp.modeldir.shrink import shrink_model

    keep = [] if args.no_trim else args.keep
    if keep is None:
        keep = training_corpora(read_model_meta(local_model_dir(args.model_dir)))
    words = corpus_words(keep)
    scripts = [] if args.no_trim else [s.upper() for s in args.scripts] if args.scripts else sorted(scripts_of(words))
    done = shrink_model(
        args.model_dir, args.out, words=words, scripts=scripts, top=0 if args.no_trim else args.top,
        bf16=not args.fp32, described={"corpora": keep},
    )  # fmt: skip
    kept = "the whole vocabulary"
    if not args.no_trim:
        kept = f"{done['pieces']:,} of {done['pieces_before']:,} pieces (scripts: {', '.join(scripts).lower()})"
    print(f"{args.out}: {done['megabytes']} MB, {kept}, weights stored in {done['dtype']}")
    return 0
