"""The ``xdomain-nlp mapping`` commands: a tagger learns another tag set from a few sentences.

Everything heavy is imported inside the commands, so that ``xdomain-nlp --help`` stays quick.
"""

from __future__ import annotations

import argparse
import json


def estimate(args: argparse.Namespace) -> int:
    """``xdomain-nlp mapping estimate``: how the tags of one set fall into another, from corpora."""
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.labelspace import MappingPrior, load_tagset

    source, target = load_tagset(args.source), load_tagset(args.target)
    corpora = [(load_corpus(spec), args.source_column, args.target_column, spec) for spec in args.corpus]
    prior = MappingPrior.estimate(source, target, corpora, declared_weight=args.declared_weight)
    for tag, pairs in prior.top_pairs(args.top).items():
        print(f"{tag:>8} -> " + ", ".join(f"{t} {p:.3f}" for t, p in pairs))
    unreachable = prior.unreachable()
    print(f"unreachable {target.name} tags ({len(unreachable)}): {' '.join(unreachable) or '-'}")
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(json.dumps({**prior.to_dict(), "unreachable": unreachable}, indent=2))
        print(f"wrote {args.out}")
    return 0


def train(args: argparse.Namespace) -> int:
    """``xdomain-nlp mapping train``: a mapping head for a new tag set, fitted on k sentences."""
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.devices import inference_dtype, pick_device
    from xdomain_nlp.heads import fit_mapping_head
    from xdomain_nlp.labelspace import load_tagset, project_sample, sample_sentences
    from xdomain_nlp.outputs import check_model_folder
    from xdomain_nlp.tagging import load_tagger

    check_model_folder(args.out)  # before the head is fitted: a folder that holds no model is refused
    model, tokenizer, meta = load_tagger(args.model_dir)
    model.to(pick_device("auto"))
    source, target = load_tagset(meta.get("tag_set", "upos")), load_tagset(args.tag_set)
    pool = load_corpus(args.train)
    train = pool.select(sample_sentences(len(pool), args.k, args.seed))
    projected = None
    if args.projection:
        _, projected, _, summary = project_sample(
            args.projection, args.projection_corpus, args.projection_sentences, target=target
        )
        print(summary)
    head, prior, _ = fit_mapping_head(
        model,
        tokenizer,
        train,
        source,
        target,
        target_column=args.column,
        where=args.train,
        seed=args.seed,
        autocast_dtype=inference_dtype(model),
        projected=projected,
    )
    print(f"{target.name}: head fitted on {len(train)} sentences of {args.train}")
    if prior.unreachable():
        print(f"unreachable {target.name} tags (need target examples): {' '.join(prior.unreachable())}")
    model.add_mapping_head(target, head)
    kept = {k: v for k, v in meta.items() if k not in ("task", "labels", "tag_set", "mapping_heads")}
    model.save(args.out, tokenizer, kept)  # an existing folder that holds no model is refused, never deleted
    print(f"saved {args.out} (tag sets: {', '.join(model.available_tag_sets)})")
    return 0
