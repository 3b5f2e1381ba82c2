"""``xdomain-nlp``: thin command-line wrappers over the package."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from xdomain_nlp import mapping_commands, recipe_commands, size_commands
from xdomain_nlp.defaults import DEFAULT_MODEL
from xdomain_nlp.errors import InputError, run_for_people


def _corpora(args: argparse.Namespace) -> int:
    from xdomain_nlp.data import CORPORA, ChecksumError, corpus_path

    bad = 0
    for name, corpus in CORPORA.items():
        if args.fetch and name not in args.fetch:
            continue
        print(f"{name}: {corpus.description} [{corpus.license}]")
        for split in corpus.splits:
            try:
                where = corpus_path(name, split, allow_download=bool(args.fetch))
            except ChecksumError as err:  # a wrong file is listed and marked; the listing goes on
                where, bad = f"BAD: {err}", bad + 1
            except (FileNotFoundError, ConnectionError) as err:
                where = f"not available ({err})" if args.fetch else "not local"
            print(f"  {split}: {where}")
    if bad:
        print(f"{bad} file(s) do not match their pinned checksum (marked BAD above)", file=sys.stderr)
    return 1 if bad else 0


def _convert(args: argparse.Namespace) -> int:
    from xdomain_nlp.encoders import resolve_model
    from xdomain_nlp.encoders.embedded import convert_e5s1

    if args.src:
        print(convert_e5s1(args.src, args.dest))
    else:
        print(resolve_model(args.model))
    return 0


def _tag_or_evaluate(args: argparse.Namespace) -> int:
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.data.conllu_output import conllu_file_of, source_lines, write_conllu, write_jsonl
    from xdomain_nlp.outputs import atomic_file, refuse_inputs
    from xdomain_nlp.tagging import UPOS
    from xdomain_nlp.tagging.stream import evaluate_conllu_file, tag_conllu_file
    from xdomain_nlp.tagging.tagger import Tagger

    if args.command == "tag" and args.output:  # before anything loads: -o equal to the input would empty it
        refuse_inputs(args.output, [args.corpus], what="output (-o)")
    tagger = Tagger.load(args.model_dir, precision=args.precision)
    if args.tag_set and args.tag_set not in tagger.tag_sets:
        raise InputError(f"{args.model_dir}: no tag set {args.tag_set!r}; it has {tagger.tag_sets}")
    if args.lang and args.corpus.lower().endswith(".txt"):
        args.corpus = f"{args.corpus}[lang={args.lang}]"
    # A UPOS-shaped tag set (a convention) fills the UPOS column, any other XPOS; the rest of the input stays.
    fill = getattr(args, "fill", None) or ("upos" if set(tagger.labels(args.tag_set)) <= set(UPOS) else "xpos")
    # A CoNLL-U file read whole (no [options]) streams: a chunk of sentences at a time, flat memory.
    stream = conllu_file_of(args.corpus) if "[" not in args.corpus else None
    if args.command == "evaluate":
        if stream is not None:
            report = evaluate_conllu_file(tagger, stream, tag_set=args.tag_set, column=args.column)
        else:
            report = tagger.evaluate(load_corpus(args.corpus), tag_set=args.tag_set, column=args.column,
                                     source=args.corpus)  # fmt: skip
        what = {"corpus": args.corpus, "tag_set": report["tag_set"], "column": report["column"]}
        print(json.dumps({**what, "accuracy": round(report["accuracy"], 2), "words": report["words"]}))
        return 0
    done = None
    with atomic_file(args.output) if args.output else contextlib.nullcontext(sys.stdout) as out:
        if stream is not None:
            done = tag_conllu_file(tagger, stream, out, tag_set=args.tag_set, column=fill, output_format=args.format)
        else:
            corpus = load_corpus(args.corpus)
            tags, probs = tagger.tag_corpus(corpus, tag_set=args.tag_set, source=args.corpus)
            if args.format == "jsonl":
                write_jsonl(out, corpus, tags, probs, tag_set=args.tag_set or tagger.model.source_tag_set)
            else:
                write_conllu(out, corpus, tags, column=fill, lines_by_start=source_lines(args.corpus))
    if done is not None:
        print(f"tagged {done['sentences']:,} sentences, {done['words']:,} words in {done['seconds']:.1f} s "
              f"({done['words_per_s']:,.0f} words/s) -> {args.output or 'stdout'}", file=sys.stderr)  # fmt: skip
    return 0


def _diagnose(args: argparse.Namespace) -> int:
    import numpy as np

    from xdomain_nlp.shift.diagnosis import diagnose
    from xdomain_nlp.shift.report import load_side, write_report

    source, target = load_side(args.source, args.label_column), load_side(args.target, args.label_column)
    embeddings = None
    if args.model != "none":
        from xdomain_nlp.devices import inference_dtype, pick_device
        from xdomain_nlp.encoders import embed_texts, load_encoder, load_tokenizer

        tokenizer, encoder = load_tokenizer(args.model), load_encoder(args.model).to(pick_device("auto"))
        dtype = inference_dtype(encoder)
        rng = np.random.default_rng(0)
        views = []
        for side in (source, target):
            # The AUC needs a sample, not every sentence: at most --max-embed per side, drawn at random.
            idx = rng.choice(len(side.texts), min(args.max_embed, len(side.texts)), replace=False)
            texts = [side.texts[i] for i in sorted(idx)]
            views.append(embed_texts(args.model, texts, encoder=encoder, tokenizer=tokenizer, autocast_dtype=dtype))
        embeddings = (views[0], views[1])
    report = diagnose(source, target, embeddings=embeddings, min_count=args.min_count, top=args.top)
    out = write_report(report, args.out)
    print(report["verdict"]["text"])
    print(f"report: {out / 'report.md'} (+ report.json, PNG plots)")
    return 0


def _push(args: argparse.Namespace) -> int:
    from xdomain_nlp.hub import push_to_hub

    where = push_to_hub(  # a HubPushError says what to fix; main prints it as one line
        args.model_dir,
        args.repo_id,
        token=args.token,
        private=args.private,
        metrics_file=args.metrics,
        spacy_wheel=args.spacy_wheel,
        license=args.license,
        upper_bound=args.upper_bound,
        dry_run=args.dry_run,
        local_paths=args.local_paths,
    )
    print(f"wrote {where} (nothing uploaded)" if args.dry_run else f"pushed {args.model_dir} to {where}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from xdomain_nlp.version import __version__

    parser = argparse.ArgumentParser(prog="xdomain-nlp", description="Transfer learning across languages and domains.")
    parser.add_argument("--version", action="version", version=f"xdomain-nlp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("recipes", help="list the shipped recipes; `recipes cp NAME [DIR]` copies one out to edit")
    p.add_argument(
        "action", nargs="?", choices=["list", "cp", "path"], default="list",
        help="list (default); cp NAME [DIR]: copy the script and config into DIR; path NAME: its config file",
    )  # fmt: skip
    p.add_argument("name", nargs="?", help="a recipe (its config's name, e.g. pos_en_de, custom_tagset_stts)")
    p.add_argument("dest", nargs="?", default=".", help="cp: the folder to copy into (default: here)")
    p.set_defaults(func=recipe_commands.recipes)

    p = sub.add_parser("train", help="run a shipped recipe: train NAME [--config FILE] [key=value ...]")
    p.add_argument("name", help="a recipe from `xdomain-nlp recipes`")
    p.add_argument("--config", help="your own YAML instead of the shipped one (e.g. an edited copy)")
    p.add_argument("overrides", nargs="*", help="key=value settings on top of the config, e.g. epochs=1")
    p.set_defaults(func=recipe_commands.train)

    p = sub.add_parser("corpora", help="list named corpora and where their files are")
    p.add_argument("--fetch", nargs="*", help="download these corpora (all splits) if not local")
    p.set_defaults(func=_corpora)

    p = sub.add_parser("convert", help="convert the embedded encoder (or an E5S1 file) to a transformers directory")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"the embedded encoder to convert (default: {DEFAULT_MODEL})")
    p.add_argument("--src", help="an E5S1 file to convert instead of the embedded one")
    p.add_argument("--dest", help="output directory (with --src)")
    p.set_defaults(func=_convert)

    p = sub.add_parser("trim", help="keep only the vocabulary pieces some corpora use")
    p.add_argument("dest", help="folder for the trimmed encoder (a transformers model directory)")
    p.add_argument("corpora", nargs="+", help="corpus splits (ud:en_ewt:train) or CoNLL-U files")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"encoder to trim (default: {DEFAULT_MODEL})")
    p.set_defaults(func=size_commands.trim)

    p = sub.add_parser("shrink", help="a saved model made small to ship: vocabulary trimmed, weights in bf16")
    p.add_argument("model_dir", help="a saved model folder (tagger, parser) or Hub id")
    p.add_argument("out", help="folder for the small copy (a model folder like the first)")
    p.add_argument("--keep", nargs="*", help="corpora whose pieces and scripts are kept (default: its training data)")
    p.add_argument("--scripts", nargs="*", help="keep all pieces in these scripts (latin, cyrillic; default: --keep's)")
    p.add_argument("--top", type=int, default=0, help="also keep the tokenizer's N most probable pieces")
    p.add_argument("--no-trim", action="store_true", help="keep the whole vocabulary (only store weights in bf16)")
    p.add_argument("--fp32", action="store_true", help="keep fp32 weights (default: stored in bf16, loaded in fp32)")
    p.set_defaults(func=size_commands.shrink)

    for name, text in (
        ("tag", "tag a corpus with a saved tagger (CoNLL-U out)"),
        ("evaluate", "score a saved tagger on a labelled corpus"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("model_dir", help="a saved tagger (directory or Hub id)")
        p.add_argument("corpus", help="corpus split (ud:de_gsd:test), or a file: CoNLL-U, JSONL, plain text (.txt)")
        p.add_argument("--lang", help="language of a plain-text file, for spaCy's tokenizer (default: xx)")
        p.add_argument(
            "--precision",
            default="auto",
            choices=["auto", "bf16", "fp32"],
            help="inference precision; auto = bf16 where the hardware runs it natively",
        )
        p.add_argument("--tag-set", help="one of the model's mapping heads (stts, ud_de, ...); default: its own labels")
        if name == "evaluate":
            p.add_argument("--column", help="gold column to score against (default: the model's label column)")
        if name == "tag":
            p.add_argument("-o", "--output", help="write here instead of stdout")
            p.add_argument("--format", choices=["conllu", "jsonl"], default="conllu", help="CoNLL-U keeps the input")
            p.add_argument("--fill", choices=["upos", "xpos"], help="column the tags go in (default: by tag set)")
            p.set_defaults(column=None)
        p.set_defaults(func=_tag_or_evaluate)

    p = sub.add_parser("diagnose", help="which shift (P(X), P(Y|X), P(Y)) separates two corpora; writes a report")
    p.add_argument("source", help="corpus spec (ud:en_ewt:train[genre=email], sentiment:yelp:all, a+b) or file")
    p.add_argument("target", help="the other side, written the same way")
    p.add_argument("--out", default="runs/diagnosis", help="folder for report.md, report.json and the plots")
    p.add_argument("--label-column", default="upos", help="token label column of tagged corpora")
    p.add_argument("--min-count", type=int, default=20, help="a context-biased word occurs this often on each side")
    p.add_argument("--top", type=int, default=25, help="words listed per table")
    p.add_argument("--model", default=DEFAULT_MODEL, help="encoder for the domain classifier; 'none' to skip it")
    p.add_argument("--max-embed", type=int, default=2000, help="sentences per side embedded for the classifier")
    p.set_defaults(func=_diagnose)

    mapping = sub.add_parser("mapping", help="label-space mapping: estimate a tag-set prior, add a tag set to a tagger")
    msub = mapping.add_subparsers(dest="mapping_command", required=True)
    p = msub.add_parser("estimate", help="P(target tag | source tag) from corpora and declared tables")
    p.add_argument("source", help="source tag set: upos, ptb, stts or a YAML/JSON tag-set file")
    p.add_argument("target", help="target tag set (same choices)")
    p.add_argument("--corpus", nargs="*", default=[], help="corpora annotated with both tag sets (ud:de_gsd:dev)")
    p.add_argument("--source-column", default="upos", help="column of the source tags (default: upos)")
    p.add_argument("--target-column", default="xpos", help="column of the target tags (default: xpos)")
    p.add_argument("--declared-weight", type=float, default=1.0, help="pseudo-counts per declared pair")
    p.add_argument("--top", type=int, default=3, help="target tags listed per source tag")
    p.add_argument("--out", help="write the prior (counts, tag sets, unreachable tags) as JSON here")
    p.set_defaults(func=mapping_commands.estimate)
    p = msub.add_parser("train", help="add a tag set to a saved tagger through a mapping head (frozen encoder)")
    p.add_argument("model_dir", help="a saved tagger (directory or Hub id)")
    p.add_argument("tag_set", help="upos, ptb, stts or a YAML/JSON tag-set file")
    p.add_argument("--train", required=True, help="corpus with target tags (ud:de_gsd:dev or a CoNLL-U file)")
    p.add_argument("--column", default="xpos", help="column holding the target tags")
    p.add_argument("--k", type=int, default=-1, help="labelled sentences drawn from --train (-1 = all, 0 = prior only)")
    p.add_argument("--seed", type=int, default=0, help="which k sentences are drawn, and the head's start")
    p.add_argument("--projection", help="rules writing a source treebank in the tag set (ud_en_stts or a YAML file)")
    p.add_argument("--projection-corpus", default="ud:en_ewt:train", help="the source treebank the rules rewrite")
    p.add_argument("--projection-sentences", type=int, default=4000, help="sentences of it to use (-1 = all)")
    p.add_argument("--out", required=True, help="where to save the tagger with its new tag set")
    p.set_defaults(func=mapping_commands.train)

    p = sub.add_parser("push", help="publish a saved model to the Hugging Face Hub with a model card")
    p.add_argument("model_dir", help="a saved model folder (tagger, parser or sentiment model)")
    p.add_argument("repo_id", help="namespace/name on the Hub (HF_ENDPOINT picks another Hub)")
    p.add_argument("--dry-run", metavar="DIR", help="write the folder that would be uploaded to DIR, upload nothing")
    p.add_argument("--metrics", help="evaluation JSON for the card (default: MODEL_DIR/../metrics.json if present)")
    p.add_argument("--spacy-wheel", help="also upload this spaCy package wheel (under spacy/)")
    p.add_argument(
        "--upper-bound",
        metavar="MODEL_DIR",
        help="sentiment models: the same recipe's model trained on target labels (e.g. "
        "runs/sentiment_sst2_in_domain/plain/model); its recorded scores go into the card as the in-domain upper bound",
    )
    p.add_argument("--license", help="license id for the card (default: the base model's)")
    p.add_argument("--token", help="Hub token (default: HF_TOKEN or the saved login)")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.add_argument(
        "--local-paths", choices=["refuse", "redact", "keep"], default="refuse",
        help="paths of this machine in the model's config: refuse to publish (default), redact to their last part, "
        "or keep",
    )  # fmt: skip
    p.set_defaults(func=_push)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line; a user error is one line ``xdomain-nlp: error: ...`` and exit code 2 (``--debug``:
    the traceback)."""
    return run_for_people(_run, "xdomain-nlp", argv)


def _run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "convert" and args.src and not args.dest:
        build_parser().error("convert --src needs --dest")
    if args.command == "recipes" and args.action in ("cp", "path") and not args.name:
        build_parser().error(f"recipes {args.action} needs a recipe name")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
