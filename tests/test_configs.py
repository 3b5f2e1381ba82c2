"""Every shipped YAML config is valid for its recipe (checked without running anything)."""

import importlib
import sys
from pathlib import Path

import pytest

from xdomain_nlp.training import load_config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "recipes"))

CONFIGS = sorted((REPO / "recipes/configs").glob("*.yaml"))
RECIPES = sorted((p.stem for p in (REPO / "recipes").glob("*.py")), key=len, reverse=True)


def recipe_for(config: Path) -> str:
    """Configs are named after their recipe: custom_tagset_stts.yaml belongs to custom_tagset.py."""
    for name in RECIPES:
        if config.stem == name or config.stem.startswith(name + "_"):
            return name
    raise AssertionError(f"{config.name}: no recipe in recipes/ matches its name")


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_config_is_valid(path):
    recipe = importlib.import_module(recipe_for(path))
    cfg = load_config(path, [], recipe.DEFAULTS)
    assert set(cfg) == set(recipe.DEFAULTS)
