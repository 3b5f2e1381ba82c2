"""What `Tagger.predict` costs on the host, outside the model: the part a GPU cannot speed up.

On a GPU the model's forward pass is fast; what limits ``load(...).predict`` there is the host
work around it (words to pieces, windows, batches, tags back to words). This measures that work
on any machine: a tagger with one encoder layer (``--layers``) tags German GSD test ``--copies``
times as word lists, a forward hook times the model, and the rest of the wall time is the host's.

    python benchmarks/predict_overhead.py            # writes benchmarks/results/predict_overhead.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import xdomain_nlp
from xdomain_nlp.data import load_corpus
from xdomain_nlp.encoders import load_tokenizer
from xdomain_nlp.tagging import UPOS, TokenTagger
from xdomain_nlp.training import run_record, write_json

OUT = Path(__file__).parent / "results" / "predict_overhead.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="embedded:multilingual-e5-small")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model = TokenTagger.from_encoder(args.model, list(UPOS), num_layers=args.layers)
        model.save(Path(tmp) / "tagger", load_tokenizer(args.model), {"config": {"label_column": "upos"}})
        tagger = xdomain_nlp.load(Path(tmp) / "tagger", device="cpu", precision="fp32")
    sentences = [list(w) for w in load_corpus("ud:de_gsd:test")["words"]] * args.copies
    words = sum(map(len, sentences))
    in_model = [0.0]

    def start(*_):
        in_model.append(time.perf_counter())

    def stop(*_):
        in_model[0] += time.perf_counter() - in_model.pop()

    tagger.model.register_forward_pre_hook(start)
    tagger.model.register_forward_hook(stop)
    tagger.predict(sentences[:64], progress=False)  # warm-up
    host = []
    for _ in range(args.rounds):
        in_model[0] = 0.0
        begin = time.perf_counter()
        tagger.predict(sentences, progress=False)
        host.append(time.perf_counter() - begin - in_model[0])
    best = min(host)
    result = {
        "host_us_per_word": round(1e6 * best / words, 2),
        "host_words_per_s": round(words / best),
        "words": words,
        "rounds_host_s": [round(h, 3) for h in host],
        "setup": {"model": args.model, "layers": args.layers, "copies": args.copies, "corpus": "ud:de_gsd:test"},
        **run_record("python benchmarks/predict_overhead.py"),
    }
    write_json(result, Path(args.out))
    print(result["host_us_per_word"], "us a word on the host;", result["host_words_per_s"], "words/s at most")


if __name__ == "__main__":
    main()
