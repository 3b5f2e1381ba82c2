"""A GPU check for a lent CUDA machine with no internet: the main job on a train limit, in bf16.

Here, on the CPU machine that has the data and the embedded encoder (and the package registry):

    python benchmarks/gpu_check.py prepare          # writes .gpu_check/ (git-ignored), under what a device call carries

Then through the `device` tool: ``run(command="bash benchmarks/gpu_check.sh", carry=[".gpu_check"],
timeout_s=420)``; ``$OUT/gpu_check.json`` comes back, to be copied to benchmarks/results/.

A device call carries 64 MiB, and the embedded encoder alone ships as 69 MB of 4-bit weights, so
``prepare`` packs what the check reads: the encoder with its vocabulary trimmed to the pieces the
check's sentences use (the 12 layers untouched; weights stored in bf16), the first ``--sentences``
EWT training sentences and German GSD test as CoNLL-U files, and wheels of the packages the device
image lacks (``datasets`` and its small dependencies; torch, transformers, accelerate are there).
``run`` trains the main job's recipe and config on them (its two epochs) with ``mixed_precision=bf16``
and writes words/s, tokens/s, peak GPU memory, wall time and GSD test accuracy (English and German
conventions). The accuracy is a sanity figure for a short run, not the main job's number.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / ".gpu_check"
TRAIN_FILE, TEST_FILE = "en_ewt-train-head.conllu", "de_gsd-ud-test.conllu"
CARRY_LIMIT = 64 * 2**20
# What the device image lacks, as pinned here (Python 3.12 wheels); the image has torch, transformers,
# accelerate, tokenizers, safetensors, huggingface_hub, pyarrow, pandas, numpy, scipy, scikit-learn.
WHEELS = ["datasets==5.2.0", "dill==0.4.1", "multiprocess==0.70.19", "xxhash==4.1.0", "fsspec==2026.9.0"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"]


def first_sentences(path: Path, n: int) -> str:
    """The first ``n`` sentences of a CoNLL-U file, lines untouched."""
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    return "\n\n".join(b for b in blocks[:n] if b.strip()) + "\n\n"


def prepare(out: Path, sentences: int) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.data.corpora import corpus_path
    from xdomain_nlp.encoders import trim_vocabulary

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / TRAIN_FILE).write_text(first_sentences(corpus_path("ud:en_ewt", "train"), sentences), encoding="utf-8")
    shutil.copyfile(corpus_path("ud:de_gsd", "test"), out / TEST_FILE)
    words = [w for spec in (TRAIN_FILE, TEST_FILE) for sent in load_corpus(str(out / spec))["words"] for w in sent]
    with tempfile.TemporaryDirectory() as tmp:
        trimmed = trim_vocabulary("embedded:multilingual-e5-small", words, Path(tmp) / "encoder")
        model = AutoModel.from_pretrained(trimmed).to(torch.bfloat16)
        model.save_pretrained(out / "encoder")
        AutoTokenizer.from_pretrained(trimmed).save_pretrained(out / "encoder")
        pieces = model.config.vocab_size
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version",
         "3.12", "--implementation", "cp", *platforms, "-d", str(out / "wheels"), *WHEELS],
        check=True,
    )  # fmt: skip
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    tree = sum(f.stat().st_size for f in map(Path, git_files()) if f.is_file())
    print(f"{out}: {size / 2**20:.1f} MiB ({pieces} vocabulary pieces kept) + {tree / 2**20:.1f} MiB of tracked files")
    if size + tree > CARRY_LIMIT:
        raise SystemExit(f"{out}: over the 64 MiB a device call carries; lower --sentences")


def git_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [str(REPO / f) for f in listed.splitlines()]


def subword_ratio(bundle: Path) -> float:
    """Subword pieces per word over the training sentences (tokens/s = words/s times this)."""
    from transformers import AutoTokenizer

    from xdomain_nlp.data import load_corpus

    tokenizer = AutoTokenizer.from_pretrained(bundle / "encoder")
    sentences = load_corpus(str(bundle / TRAIN_FILE))["words"]
    words = [w for sent in sentences for w in sent]
    pieces = sum(len(ids) for ids in tokenizer(words, add_special_tokens=False)["input_ids"])
    return pieces / len(words)


def run(bundle: Path, out: Path, allow_cpu: bool) -> dict:
    import torch

    from xdomain_nlp.training import run_record

    cuda = torch.cuda.is_available()
    if not cuda and not allow_cpu:
        raise SystemExit("no CUDA device: this check is for a GPU machine (--allow-cpu runs it here, slowly)")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    recipe = runpy.run_path(str(REPO / "recipes/pos_en_de.py"), run_name="recipe")["main"]
    run_dir = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    test = str(bundle / TEST_FILE)
    start = time.perf_counter()
    recipe([
        "--config", str(REPO / "recipes/configs/pos_en_de.yaml"), f"model={bundle / 'encoder'}",
        f"train={bundle / TRAIN_FILE}", f"eval=[{test}]", f"convention_eval=[{test}]",
        "mixed_precision=bf16", f"output_dir={run_dir}",
    ])  # fmt: skip
    wall = time.perf_counter() - start
    metrics = json.loads((run_dir / "metrics.json").read_text())
    pieces_per_word = subword_ratio(bundle)
    result = {
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "train_sentences": sum(1 for b in (bundle / TRAIN_FILE).read_text().split("\n\n") if b.strip()),
        "mixed_precision": metrics["setup"]["mixed_precision"],
        "train_words_per_s": round(metrics["train_words_per_s"], 1),
        "train_tokens_per_s": round(metrics["train_words_per_s"] * pieces_per_word, 1),  # subword pieces
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
        "wall_s": round(wall, 1),
        "de_gsd_test_upos_source_conventions": round(metrics["results"][test]["accuracy"], 2),
        "de_gsd_test_upos": round(metrics["convention"]["results"][test]["accuracy"], 2),
        "versions": {m: __import__(m).__version__ for m in ("torch", "transformers", "accelerate", "datasets")},
    }
    result |= run_record("bash benchmarks/gpu_check.sh")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare", help="pack encoder, sentences and wheels into .gpu_check/ (run here)")
    p.add_argument("--out", default=str(BUNDLE))
    p.add_argument("--sentences", type=int, default=3000, help="EWT training sentences the check trains on")
    p = sub.add_parser("run", help="train and measure (run on the device, through benchmarks/gpu_check.sh)")
    p.add_argument("--bundle", default=str(BUNDLE))
    p.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "gpu_check.json"))
    p.add_argument("--allow-cpu", action="store_true", help="run without a GPU (to try the check here)")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(Path(args.out), args.sentences)
    else:
        run(Path(args.bundle), Path(args.out), args.allow_cpu)


if __name__ == "__main__":
    main()
