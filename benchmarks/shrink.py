"""What a shipped tagger weighs and what shrinking it costs: `xdomain-nlp shrink` variants of one model.

Each variant of ``--model`` (the main job's tagger) is written to a temporary folder and scored
on German GSD test and dev and English EWT test (UPOS, the model's own head; the German
convention head too when the model has one), beside the model as it was saved: bf16 storage
alone; the pieces of the scripts its training corpus is written in (Latin), in bf16 (what
`xdomain-nlp shrink` does by default) and in fp32; and, to show what re-segmented words cost, the
pieces of the training corpus and the 20,000 most probable ones, with and without German dev
text's pieces. For the default variant the folder `push` uploads and the spaCy pipeline folder
are measured too.

    python benchmarks/shrink.py --model runs/pos_en_de/model    # writes benchmarks/results/shrink.json
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import xdomain_nlp
from xdomain_nlp.data import load_corpus
from xdomain_nlp.encoders.trim import scripts_of
from xdomain_nlp.modeldir import read_model_meta
from xdomain_nlp.modeldir.shrink import folder_bytes, shrink_model
from xdomain_nlp.size_commands import corpus_words, training_corpora
from xdomain_nlp.training import run_record, write_json

OUT = Path(__file__).parent / "results" / "shrink.json"
SCORED = ("ud:de_gsd:test", "ud:de_gsd:dev", "ud:en_ewt:test")
TARGET_TEXT = "ud:de_gsd:dev"  # German text a user has (never the test set)
DEFAULT = "the scripts of the training corpus (Latin), bf16 (default)"
VARIANTS = {  # name: (keep its training corpus's pieces, its scripts, more corpora's pieces, most probable kept, bf16)
    "bf16, whole vocabulary": (False, False, [], 0, True),
    DEFAULT: (True, True, [], 0, True),
    "the scripts of the training corpus (Latin), fp32": (True, True, [], 0, False),
    "the training corpus's pieces + top 20,000, bf16": (True, False, [], 20000, True),
    "the training corpus's + German dev text's pieces + top 20,000, bf16": (True, False, [TARGET_TEXT], 20000, True),
}


def scores(model: Path) -> dict[str, float]:
    tagger = xdomain_nlp.load(model, device="cpu", precision="fp32")
    out = {spec: round(tagger.evaluate(load_corpus(spec))["accuracy"], 2) for spec in SCORED}
    for tag_set in tagger.tag_sets[1:]:  # a convention head, scored against the same gold column
        out[f"ud:de_gsd:test {tag_set}"] = round(tagger.evaluate(load_corpus("ud:de_gsd:test"), tag_set=tag_set)[
            "accuracy"], 2)  # fmt: skip
    return out


def resegmented(full: Path, small: Path, spec: str) -> float:
    """Share of the words of ``spec`` that the trimmed tokenizer splits into other pieces."""
    import transformers

    a, b = (transformers.AutoTokenizer.from_pretrained(p) for p in (full, small))
    words = sorted({w for sentence in load_corpus(spec)["words"] for w in sentence})
    pieces_a = a(words, add_special_tokens=False)["input_ids"]
    pieces_b = b(words, add_special_tokens=False)["input_ids"]
    changed = sum(a.convert_ids_to_tokens(x) != b.convert_ids_to_tokens(y) for x, y in zip(pieces_a, pieces_b))
    return round(changed / len(words), 4)


def staged_sizes(model: Path, tmp: Path) -> dict[str, float]:
    """Megabytes of the folder `push` would upload and of a spaCy pipeline holding the tagger."""
    import spacy

    from xdomain_nlp.hub import stage_folder

    hub = stage_folder(model, tmp / "hub", "me/pos-en-de", local_paths="redact")
    nlp = spacy.blank("de")
    nlp.add_pipe("xdomain_tagger", config={"model": str(model), "device": "cpu", "precision": "fp32"})
    nlp.to_disk(tmp / "spacy")
    return {"hub_upload_mb": round(folder_bytes(hub) / 2**20, 1), "spacy_pipeline_mb": round(
        folder_bytes(tmp / "spacy") / 2**20, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a saved tagger (the main job's runs/pos_en_de/model)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    model = Path(args.model)
    train = training_corpora(read_model_meta(model))
    words = corpus_words(train)
    saved = {"megabytes": round(folder_bytes(model) / 2**20, 1), "scores": scores(model)}
    variants = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i, (name, (trim, by_script, also, top, bf16)) in enumerate(VARIANTS.items()):
            dest, kept = tmp / f"v{i}", train + also
            done = shrink_model(
                model, dest, words=words + corpus_words(also) if trim else [], top=top, bf16=bf16,
                scripts=sorted(scripts_of(words)) if by_script else [], described={"corpora": kept if trim else []},
            )  # fmt: skip
            variant = {**done, "scores": scores(dest)}
            variant["minus_saved"] = {k: round(v - saved["scores"][k], 2) for k, v in variant["scores"].items()}
            if trim:
                variant["gsd_test_words_resegmented"] = resegmented(model, dest, "ud:de_gsd:test")
            if name == DEFAULT:
                variant.update(staged_sizes(dest, tmp / "staged"))
            variants[name] = variant
            print(name, {k: variant[k] for k in ("megabytes", "scores")})
    default = variants[DEFAULT]
    result = {
        "default_megabytes": default["megabytes"],
        "default_minus_saved": default["minus_saved"],
        "saved": saved,
        "variants": variants,
        "model": args.model,
        "train": train,
        **run_record(f"python benchmarks/shrink.py --model {args.model}"),
    }
    write_json(result, Path(args.out))


if __name__ == "__main__":
    main()
