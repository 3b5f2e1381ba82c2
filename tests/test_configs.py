"""Every shipped YAML config is valid for its recipe (checked without running anything)."""

import importlib
import sys
from pathlib import Path

import pytest

from xdomain_nlp.training import load_config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "recipes"))

CONFIGS = sorted((REPO / "recipes/configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_config_is_valid(path):
    recipe = importlib.import_module(path.stem)
    cfg = load_config(path, [], recipe.DEFAULTS)
    assert set(cfg) == set(recipe.DEFAULTS)
