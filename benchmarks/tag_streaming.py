"""`xdomain-nlp tag` on a large CoNLL-U file: memory stays flat, output grows as it runs, no slower than predict.

German GSD test is written ``--copies`` times into one file (built here in a temporary folder,
never kept). ``xdomain-nlp tag MODEL FILE -o OUT`` runs on GSD test itself and on the big file,
each in a fresh process whose peak resident memory is read from the operating system; the big
run's output file is watched while it runs. ``load(MODEL).predict`` tags the same sentences as word
lists in this process for the words/s it is set against.

    python benchmarks/tag_streaming.py --model runs/pos_en_de/model    # or a fresh 2-layer tagger (default)

Writes benchmarks/results/tag_streaming.json.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xdomain_nlp
from xdomain_nlp.data import load_corpus
from xdomain_nlp.data.corpora import corpus_path
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.tagging import UPOS, TokenTagger
from xdomain_nlp.training import run_record, write_json

OUT = Path(__file__).parent / "results" / "tag_streaming.json"
PEAK = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); " \
       "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"  # fmt: skip
SUMMARY = re.compile(r"tagged ([\d,]+) sentences, ([\d,]+) words in [\d.]+ s \(([\d,]+) words/s\)")


def tag_in_a_fresh_process(model: Path, corpus: Path, out: Path, watch: bool = False) -> dict:
    """Peak RSS (MiB) of ``xdomain-nlp tag``, its own words/s, and the output's size while it ran."""
    cli = [sys.executable, "-c", "from xdomain_nlp.cli import main; main()"]
    command = [sys.executable, "-c", PEAK, *cli, "tag", str(model), str(corpus), "-o", str(out), "--precision", "fp32"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sizes, start = [], time.perf_counter()
    while watch and process.poll() is None:
        time.sleep(2)
        parts = list(out.parent.glob(f".{out.name}.*.part"))
        sizes.append((round(time.perf_counter() - start, 1), sum(p.stat().st_size for p in parts if p.exists())))
    stdout, stderr = process.communicate()
    if process.returncode:
        raise SystemExit(stderr[-2000:])
    found = SUMMARY.search(stderr)
    return {
        "peak_rss_mib": round(int(stdout.strip().splitlines()[-1]) / 1024, 1),
        "words": int(found.group(2).replace(",", "")),
        "words_per_s": int(found.group(3).replace(",", "")),
        "output_bytes_while_running": sizes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="", help="a saved tagger (default: a fresh 2-layer e5 tagger)")
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = Path(args.model) if args.model else tmp / "tagger"
        if not args.model:
            name = "embedded:multilingual-e5-small"
            fresh = TokenTagger.from_encoder(name, list(UPOS), num_layers=2)
            fresh.save(model, load_tokenizer(name), {"config": {"label_column": "upos"}})
        gsd = corpus_path("ud:de_gsd", "test")
        text = gsd.read_text(encoding="utf-8")
        big = tmp / "gsd_test_x.conllu"
        with big.open("w", encoding="utf-8") as handle:
            for _ in range(args.copies):
                handle.write(text if text.endswith("\n\n") else text.rstrip("\n") + "\n\n")
        small_run = tag_in_a_fresh_process(model, gsd, tmp / "small.conllu")
        big_run = tag_in_a_fresh_process(model, big, tmp / "big.conllu", watch=True)
        tagger = xdomain_nlp.load(model, device="cpu", precision="fp32")
        sentences = [list(w) for w in load_corpus("ud:de_gsd:test")["words"]] * 10
        tagger.predict(sentences[:64], progress=False)
        start = time.perf_counter()
        tagger.predict(sentences, progress=False)
        predict_rate = sum(map(len, sentences)) / (time.perf_counter() - start)
        growing = [size for _, size in big_run["output_bytes_while_running"]]
    result = {
        "peak_rss_ratio_big_over_small": round(big_run["peak_rss_mib"] / small_run["peak_rss_mib"], 3),
        "tag_words_per_s_over_predict": round(big_run["words_per_s"] / predict_rate, 3),
        "output_grew_while_running": len({s for s in growing if s}) > 1,
        "small": {
            "file": "ud:de_gsd:test",
            "peak_rss_mib": small_run["peak_rss_mib"],
            "words": small_run["words"],
            "words_per_s": small_run["words_per_s"],
        },
        "big": {"copies": args.copies, **big_run},
        "predict_words_per_s": round(predict_rate),
        "model": args.model or "a fresh 2-layer multilingual-e5-small tagger (speed and memory only)",
        **run_record("python benchmarks/tag_streaming.py" + (f" --model {args.model}" if args.model else "")),
    }
    write_json(result, Path(args.out))
    print({k: result[k] for k in ("peak_rss_ratio_big_over_small", "tag_words_per_s_over_predict",
                                  "output_grew_while_running")})  # fmt: skip


if __name__ == "__main__":
    main()
