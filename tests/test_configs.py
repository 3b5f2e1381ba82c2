"""Every recipe's config: one typed schema, whose defaults are its shipped YAML, checked before anything loads."""

from pathlib import Path

import pytest
import yaml

from xdomain_nlp.configs import RECIPES, POSTransferConfig
from xdomain_nlp.training import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "recipes/configs").glob("*.yaml"))


def recipe_for(config: Path) -> str:
    """Configs are named after their recipe: custom_tagset_stts.yaml belongs to custom_tagset.py."""
    for name in sorted(RECIPES, key=len, reverse=True):
        if config.stem == name or config.stem.startswith(name + "_"):
            return name
    raise AssertionError(f"{config.name}: no recipe in recipes/ matches its name")


def test_every_recipe_has_a_schema():
    assert {p.stem for p in (REPO / "recipes").glob("*.py") if p.stem != "__init__"} == set(RECIPES)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_config_is_valid(path):
    schema, _ = RECIPES[recipe_for(path)]
    load_config(schema, path)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_schema_defaults_are_the_shipped_yaml(name):
    """The YAML is where values are tuned: it lists every setting, and the schema agrees with it."""
    schema, primary = RECIPES[name]
    path = REPO / "recipes/configs" / primary
    assert set(yaml.safe_load(path.read_text())) == set(schema().to_dict())
    assert load_config(schema, path) == schema()


def test_every_problem_is_reported_at_once_before_anything_loads():
    with pytest.raises(ConfigError) as caught:
        load_config(
            POSTransferConfig,
            REPO / "recipes/configs/pos_en_de.yaml",
            ["eval=[ud:de_gsd:tset]", "epochs=-1", "lr=0", "window_overlap=300", "batch_sise=8", "seed=one",
             "mixed_precision=fp64", "reweight=kmm"],
        )  # fmt: skip
    message = str(caught.value)
    for expected in (
        "corpus 'ud:de_gsd' has no split 'tset'",
        "'epochs' = -1: must be at least 1",
        "'lr' = 0.0: must be above 0.0",
        "window_overlap = 300: must be at least 0 and below max_length = 256",
        "'batch_sise': unknown setting (did you mean 'batch_size'?)",
        "'seed' = 'one': expected a whole number",
    ):
        assert expected in message, message


def test_types_choices_and_cross_setting_checks():
    with pytest.raises(ConfigError, match="'mixed_precision' = 'fp64': choose one of auto, native"):
        load_config(POSTransferConfig, None, ["mixed_precision=fp64"])
    with pytest.raises(ConfigError, match="reweight = kmm: needs reweight_target"):
        load_config(POSTransferConfig, None, ["reweight=kmm"])
    with pytest.raises(ConfigError, match="corpus file no/such.conllu does not exist"):
        load_config(POSTransferConfig, None, ["train=no/such.conllu"])
    cfg = load_config(POSTransferConfig, None, ["lr=1e-4", "train=ud:en_ewt:dev"])  # YAML 1.1 reads 1e-4 as text
    assert cfg.lr == 1e-4 and cfg.train == ["ud:en_ewt:dev"]


def test_a_missing_or_broken_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="config file .*nope.yaml does not exist"):
        load_config(POSTransferConfig, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="bad.yaml: expected a mapping of settings, got list"):
        load_config(POSTransferConfig, bad)


def test_one_runs_setting_moves_every_run_folder_a_config_names():
    from xdomain_nlp.configs import SelfTrainingConfig

    default = load_config(SelfTrainingConfig, REPO / "recipes/configs/self_training_de.yaml")
    assert (default.source_model, default.output_dir) == ("runs/pos_en_de/model", "runs/selftrain_de")
    moved = load_config(SelfTrainingConfig, REPO / "recipes/configs/self_training_de.yaml", ["runs=/data/exp"])
    assert (moved.source_model, moved.output_dir) == ("/data/exp/pos_en_de/model", "/data/exp/selftrain_de")
    pos = load_config(POSTransferConfig, None, ["runs=/data/exp", "output_dir=elsewhere/pos"])
    assert pos.output_dir == "elsewhere/pos"  # a path given in full stays as given
    assert POSTransferConfig(runs="/data/exp").output_dir == "/data/exp/pos_en_de"
