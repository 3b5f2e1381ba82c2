"""Kill a recipe after a checkpoint, run it again, get the weights of the run that was never stopped.

``stop_after_steps`` stops training right after a checkpoint, as ``kill -9`` would after it was written;
the second run resumes from that checkpoint (data order and random state included). The POS recipe has its
own test in test_recipe_pos.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import REPO, recipe_main
from safetensors.torch import load_file

pytestmark = pytest.mark.slow


def weights(model_dir: Path) -> dict[str, torch.Tensor]:
    tensors = {}
    for file in sorted(model_dir.glob("*.safetensors")):
        tensors.update({f"{file.name}:{k}": v for k, v in load_file(file).items()})
    assert tensors, f"no weights in {model_dir}"
    return tensors


def assert_resumed_equals_full(main, config: list[str], tmp_path: Path, stop_after: int, model_dir: str) -> None:
    main([*config, f"output_dir={tmp_path / 'full'}"])
    assert main([*config, f"output_dir={tmp_path / 'cut'}", f"stop_after_steps={stop_after}"]) == {}
    assert list((tmp_path / "cut").rglob(f"step_{stop_after}/progress.json")), "no checkpoint where it stopped"
    assert not (tmp_path / "cut" / model_dir).exists(), "a stopped run must not save a model"
    main([*config, f"output_dir={tmp_path / 'cut'}"])
    full, cut = weights(tmp_path / "full" / model_dir), weights(tmp_path / "cut" / model_dir)
    assert full.keys() == cut.keys()
    # A resume that skipped, repeated or reordered a step moves the heads' weights by about their learning
    # rate (1e-3 and more in these configs), far outside this tolerance; summation order on a loaded CPU moves
    # them by less. The pooling's attention bias is left out: a softmax within each sentence is unchanged by
    # adding a constant to every score, so its true gradient is zero and AdamW steps it on rounding noise
    # alone (it differed on busy machines, 5e-5, and never changes an output).
    for name in (n for n in full if not n.endswith("attention.bias")):
        torch.testing.assert_close(
            cut[name], full[name], rtol=1e-4, atol=1e-5,
            msg=lambda m, name=name: f"{name}: {m}",
        )  # fmt: skip
    assert not list((tmp_path / "cut").rglob("progress.json")), "keep_checkpoints=0: a finished run keeps none"


def test_parser_resumes(small_encoder, tmp_path):
    config = [
        "--config", str(REPO / "recipes/configs/parser_ewt.yaml"), f"model={small_encoder}", "train_limit=24",
        "epochs=2", "batch_size=8", "eval=[ud:en_ewt:dev]", "eval_limit=8",
    ]  # fmt: skip
    assert_resumed_equals_full(recipe_main("parser_ewt"), config, tmp_path, stop_after=4, model_dir="model")


def test_sentiment_resumes(overfit_parser, small_encoder, tmp_path):
    config = [
        "--config", str(REPO / "recipes/configs/sentiment_food_to_movie.yaml"), f"model={small_encoder}",
        f"parser={overfit_parser[0]}", "methods=[relational]", "seeds=[0]", "ablate=[]", "train_limit=24",
        "eval_limit=8", "epochs=2", "batch_size=8",
    ]  # fmt: skip
    main = recipe_main("sentiment_food_to_movie")
    assert_resumed_equals_full(main, config, tmp_path, stop_after=4, model_dir="relational/model")


def test_self_training_resumes(small_tagger, tmp_path):
    config = [
        "--config", str(REPO / "recipes/configs/self_training_de.yaml"), f"source_model={small_tagger}",
        "target_limit=32", "threshold=0.3", "source_sentences=16", "eval_limit=16", "convention=''",
        "convention_rules=[]", "batch_size=8", "epochs=2",
    ]  # fmt: skip
    assert_resumed_equals_full(recipe_main("self_training"), config, tmp_path, stop_after=3, model_dir="model")
