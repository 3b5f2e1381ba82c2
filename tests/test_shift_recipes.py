"""The shift recipes end to end on small settings: files written, guard verdicts, label-shift fields."""

from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import REPO


def recipe(name: str):
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", REPO / "recipes" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_self_training_recipe(small_tagger, tmp_path):
    from xdomain_nlp.tagging import load_tagger

    out = tmp_path / "st"
    result = recipe("self_training")(
        [
            "--config",
            str(REPO / "recipes/configs/self_training_de.yaml"),
            f"source_model={small_tagger}",
            "target_limit=40",
            "threshold=0.3",  # the few-step test tagger is rarely more confident than that
            "source_sentences=16",
            "eval_limit=40",
            # German UD's conventions: a head fitted on relabelled English gives the pseudo-labels
            'convention_rules=["PRON[Poss=Yes] -> DET", "ADV[suffix=ly] -> ADJ"]',
            "convention_sentences=120",
            f"output_dir={out}",
        ]
    )
    summary = result["rounds"][0]["pseudo_labels"]
    assert 0 < summary["kept"] <= summary["words"] and len(summary["kept_per_class"]) == 17
    assert set(result["before"]) == set(result["after"]) == {"ud:de_gsd:test"}
    (verdict,) = result["guard"]
    assert verdict["harmful"] == (result["after"]["ud:de_gsd:test"] < result["before"]["ud:de_gsd:test"])
    model, _, meta = load_tagger(out / "model")
    assert meta["self_training"]["target_text"] == "ud:de_gsd:dev"
    assert meta["self_training"]["convention"] == {
        "name": "ud_de",
        "rules": ["PRON[Poss=Yes] -> DET", "ADV[suffix=ly] -> ADJ"],
    }
    # self-training ran through the convention head, which is saved with the model
    assert "ud_de" in model.available_tag_sets
    # the card's scores are labelled with the head that earned them, not the source tag set
    assert meta["metrics_by_tag_set"]["ud_de"] == {k: round(v, 2) for k, v in result["after"].items()}
    assert "metrics" not in meta
    from xdomain_nlp.hub.card import build_model_card, read_evaluations

    card = str(build_model_card(meta, read_evaluations(meta, out / "metrics.json"), "me/selftrained"))
    assert "Target adaptation: self-trained 1 round(s) on the words of `ud:de_gsd:dev`" in card
    assert "`ADV[suffix=ly] -> ADJ`" in card and "| UD_DE |" in card
    assert json.loads((out / "metrics.json").read_text())["after"] == result["after"]


def test_few_shot_fine_tuning_with_l2sp(small_tagger, tmp_path):
    """The same recipe without pseudo-labels: k labelled target sentences, L2-SP towards the source."""
    import torch

    from xdomain_nlp.tagging import load_tagger

    args = ["--config", str(REPO / "recipes/configs/self_training_few_shot_de.yaml"), f"source_model={small_tagger}"]
    result = recipe("self_training")(
        [*args, "target_k=6", "epochs=2", "l2sp_alpha=0.01", "eval_limit=30", f"output_dir={tmp_path / 'fs'}"]
    )
    assert result["rounds"][0]["pseudo_labels"] == {"kept": 0, "words": 0}
    model, _, meta = load_tagger(tmp_path / "fs/model")
    source, _, _ = load_tagger(small_tagger)
    assert meta["self_training"] == {
        "target_text": None,
        "target_labelled": "ud:de_gsd:dev (6 sentences)",
        "rounds": 1,
        "convention": None,
    }
    moved = [not torch.equal(a, b) for a, b in zip(model.parameters(), source.parameters())]
    assert any(moved)  # the k German sentences were trained on
    with pytest.raises(ValueError, match="nothing to train on"):
        recipe("self_training")([*args, "target_k=0", f"output_dir={tmp_path / 'none'}"])


def test_bias_correction_recipe(small_encoder, tmp_path):
    result = recipe("bias_correction")(
        [
            "--config",
            str(REPO / "recipes/configs/bias_correction_food_movie.yaml"),
            f"model={small_encoder}",
            "train=[sentiment:yelp:all]",
            "unlabelled_target=[sentiment:imdb:all]",
            "eval=[sentiment:imdb:all]",
            "seeds=[0]",
            "target_sample=300",
            "label_shift_train=sentiment:imdb:all",
            "label_shift_calibration=sentiment:amazon_cells:all",
            "label_shift_target=sentiment:sst2:dev",
            f"output_dir={tmp_path / 'bc'}",
        ]
    )
    methods = [r["method"] for r in result["reweighting"]]
    assert methods == ["none", "domain_classifier", "kmm", "kliep", "mlp", "dann"]
    for run in result["reweighting"][1:]:
        assert run["guard"]["baseline"] == result["reweighting"][0]["held_out"]
    for run in result["reweighting"][1:4]:
        assert 1 <= run["effective_sample_size"] <= 800 and run["max_weight"] <= 10.0 + 1e-9
    assert 0 <= result["reweighting"][5]["final_domain_accuracy"] <= 1
    settings = {r["setting"]: r for r in result["label_shift"]}
    for run in settings.values():
        assert abs(run["true_positive_share"] - 0.9) < 0.01 and 0 <= run["em_positive_share"] <= 1
    assert (tmp_path / "bc" / "metrics.json").is_file()
