"""The Amazon (Blitzer) benchmark recipe on a small real sample, and its adaptation pieces."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def recipe():
    spec = importlib.util.spec_from_file_location("sentiment_blitzer", REPO / "recipes/sentiment_blitzer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_standardise_uses_the_reference_statistics():
    blitzer = recipe()
    rng = np.random.default_rng(0)
    reference = rng.normal(3.0, 2.0, size=(500, 4))
    z = blitzer.standardise(reference, reference)
    assert np.allclose(z.mean(0), 0, atol=1e-9) and np.allclose(z.std(0), 1, atol=1e-4)
    shifted = blitzer.standardise(reference + 5.0, reference)
    assert np.allclose(shifted.mean(0), 5.0 / reference.std(0), atol=1e-6)


def test_self_training_follows_the_target_when_the_source_boundary_is_shifted():
    """Two target clusters the source classifier splits badly: pseudo-labels move the boundary."""
    blitzer = recipe()
    rng = np.random.default_rng(1)
    xs = np.concatenate([rng.normal(-1, 0.3, (200, 2)), rng.normal(1, 0.3, (200, 2))])
    ys = np.repeat([0, 1], 200)
    xt = np.concatenate([rng.normal(-0.2, 0.3, (200, 2)), rng.normal(2.2, 0.3, (200, 2))])
    yt = np.repeat([0, 1], 200)
    before = (blitzer.fit(xs, ys, 1.0, 0).predict(xt) == yt).mean()
    after = (blitzer.self_train(xs, ys, xt, 1.0, [0.2, 0.4, 0.6, 0.8, 1.0], 0).predict(xt) == yt).mean()
    assert after > before


def test_recipe_on_two_domains_sample(data_dir, e5_dir, tmp_path):
    blitzer = recipe()
    out = tmp_path / "blitzer"
    result = blitzer.main(
        [
            "--config",
            str(REPO / "recipes/configs/sentiment_blitzer.yaml"),
            "domains=[kitchen, electronics]",
            "limit=40",
            "Cs=[0.1, 1.0]",
            f"output_dir={out}",
        ]
    )
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["average"] == result["average"]
    for method in ("source_only", "domain_norm", "self_training"):
        pairs = saved["pairs"][method]
        assert set(pairs) == {"kitchen->electronics", "electronics->kitchen"}
        assert all(60.0 < acc <= 100.0 for acc in pairs.values()), (method, pairs)
    assert saved["best_method"] in saved["average"]
    assert set(saved["in_domain_cv"]) == {"kitchen", "electronics"}
