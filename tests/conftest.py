"""Shared fixtures: the real corpora from the data directory, the converted embedded encoder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests read the real corpora; CI and developers keep them in ../shared/data.
os.environ.setdefault("XDOMAIN_NLP_DATA", str(REPO.parent / "shared" / "data"))
os.environ.setdefault("XDOMAIN_NLP_CACHE", str(REPO / ".cache" / "xdomain_nlp"))
os.environ.setdefault("TQDM_DISABLE", "1")
# The resume tests compare weights to 1e-5: the BLAS must not drop threads when the machine is
# busy (MKL's dynamic threading changes the summation order, and the last bits of every matmul).
os.environ.setdefault("MKL_DYNAMIC", "FALSE")
os.environ.setdefault("OMP_DYNAMIC", "FALSE")
# Many recipes run in this one process, and accelerate keeps a process's first mixed precision:
# every run here is fp32 (auto and native follow this; bf16 is tested under `accelerate launch`).
os.environ.setdefault("ACCELERATE_MIXED_PRECISION", "no")


def packaged_pipeline(pipeline: Path, tmp_path: Path) -> tuple[Path, dict]:
    """`spacy package` -> wheel -> pip install into a new virtualenv: its python and the package meta.

    No network here: the new venv sees this environment's packages through a .pth file (torch,
    transformers, spacy, xdomain_nlp), so pip resolves the wheel's declared requirements against
    them; the model package itself lands only in the new venv."""
    import subprocess
    import sys

    dist = tmp_path / "dist"
    dist.mkdir()
    subprocess.run(
        [sys.executable, "-m", "spacy", "package", str(pipeline), str(dist), "--build", "wheel"],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = dist.glob("*/dist/*.whl")
    meta = __import__("json").loads(next(dist.glob("*/meta.json")).read_text())
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # pip comes via .pth
    site = next((venv / "lib").glob("python3*/site-packages"))
    parent_site = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    # addsitedir also runs the parent's own .pth files (an editable install of xdomain_nlp is one).
    (site / "parent_env.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in parent_site))
    py = venv / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--no-index", "--no-build-isolation", "-q", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return py, meta


def recipe_main(name: str):
    """The ``main`` of ``recipes/NAME.py``, run from its file (recipes are scripts, not a package)."""
    return recipe_names(name)["main"]


def recipe_names(name: str) -> dict:
    """What ``recipes/NAME.py`` defines (its functions and classes), read from its file."""
    import runpy

    return runpy.run_path(str(REPO / "recipes" / f"{name}.py"), run_name=f"recipe_{name}")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ["XDOMAIN_NLP_DATA"])
    if not (path / "ud").is_dir():
        pytest.fail(f"XDOMAIN_NLP_DATA={path} holds no ud/ folder; point it at shared/data")
    return path


@pytest.fixture(scope="session")
def e5_dir() -> Path:
    """The embedded encoder converted into a transformers directory (once per cache)."""
    from xdomain_nlp.encoders import resolve_model

    return Path(resolve_model("embedded:multilingual-e5-small"))


@pytest.fixture(scope="session")
def tokenizer(e5_dir):
    from xdomain_nlp.encoders import load_tokenizer

    return load_tokenizer(str(e5_dir))


def train_test_tagger(out: Path, *overrides: str) -> Path:
    """Run the POS recipe for a few steps (enough to exercise saving, loading and tagging)."""
    main = recipe_main("pos_en_de")
    base = [
        f"output_dir={out}",
        "batch_size=16",
        "max_length=64",
        "window_overlap=16",
        "lr=1.0e-3",
        "epochs=1",
        "convention=''",
    ]
    main(["--config", str(REPO / "recipes/configs/pos_en_de.yaml"), *base, *overrides])
    return out / "model"


@pytest.fixture(scope="session")
def tiny_tagger(tmp_path_factory, e5_dir) -> Path:
    """A UPOS tagger trained for a few steps on EWT."""
    return train_test_tagger(tmp_path_factory.mktemp("tiny_tagger"), "train_limit=64", "eval=[]")


SAMPLE_TEXT = {
    "de": "Der Arzt soll den Patienten über Nacht überwachen. Das Essen war gestern sehr lecker!",
    "en": "The nurse will monitor the patient overnight. The soup was really tasty!",
}


@pytest.fixture(scope="session")
def small_encoder(tmp_path_factory, e5_dir) -> Path:
    """The embedded encoder trimmed to the words the spaCy/Hub tests use (small enough to package)."""
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.encoders import trim_vocabulary

    words = [w for s in load_corpus("ud:en_ewt:train").select(range(192))["words"] for w in s]
    words += [w for s in load_corpus("ud:de_gsd:test").select(range(200))["words"] for w in s]
    for text in SAMPLE_TEXT.values():
        words += text.replace(".", " .").replace("!", " !").split()
    return trim_vocabulary(str(e5_dir), words, tmp_path_factory.mktemp("small_encoder") / "encoder")


@pytest.fixture(scope="session")
def small_tagger(tmp_path_factory, small_encoder) -> Path:
    """A UPOS tagger on the trimmed encoder, trained for a few steps; with the run's metrics.json."""
    out = tmp_path_factory.mktemp("small_tagger")
    return train_test_tagger(out, f"model={small_encoder}", "train_limit=192", "eval=[ud:de_gsd:test]", "eval_limit=50")


@pytest.fixture(scope="session")
def overfit_parser(tmp_path_factory, small_encoder):
    """The parser recipe run on 16 EWT sentences long enough to learn them."""
    main = recipe_main("parser_ewt")
    out = tmp_path_factory.mktemp("parser")
    results = main([
        "--config", str(REPO / "recipes/configs/parser_ewt.yaml"), f"model={small_encoder}", f"output_dir={out}",
        "train_limit=16", "epochs=40", "batch_size=8", "lr=3.0e-4", "head_lr=3.0e-3", "dropout=0.0",
        "warmup_ratio=0.0", "eval=[ud:en_ewt:train]", "eval_limit=16",
    ])  # fmt: skip
    return out / "model", results["ud:en_ewt:train"]


@pytest.fixture(scope="session")
def food_to_movie(overfit_parser, small_encoder, tmp_path_factory):
    """The Food -> Movie recipe on 48 sentences, one epoch: its output folder and summary."""
    main = recipe_main("sentiment_food_to_movie")
    out = tmp_path_factory.mktemp("food_to_movie")
    summary = main([
        "--config", str(REPO / "recipes/configs/sentiment_food_to_movie.yaml"), f"model={small_encoder}",
        f"parser={overfit_parser[0]}", f"output_dir={out}", "train_limit=48", "eval_limit=24",
        "seeds=[0]", "epochs=1", "ablate=[neg,amod]", "label_shift=em", "class_balance=true",
    ])  # fmt: skip
    return out, summary
