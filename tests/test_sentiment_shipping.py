"""A Food -> Movie model leaves the run: `load(...).predict`, spaCy, the Hub with its card, a wheel."""

from __future__ import annotations

import json

import numpy as np
import pytest


def sst2_sample() -> list[str]:
    from xdomain_nlp.data import load_corpus

    return list(load_corpus("sentiment:sst2:test").shuffle(seed=0).select(range(24))["text"])


def test_a_saved_sentiment_model_predicts_what_the_run_scored(food_to_movie):
    """The saved model as one object: it parses with its parser and gives the run's posteriors back."""
    import xdomain_nlp

    tmp_path, _ = food_to_movie
    with np.load(tmp_path / "predictions.npz") as predictions:
        probs = predictions["plain seed0 sentiment:sst2:test"]
    classifier = xdomain_nlp.load(tmp_path / "plain" / "model", device="cpu", precision="fp32")  # as the run scores
    assert isinstance(classifier, xdomain_nlp.SentimentClassifier) and classifier.labels == ["negative", "positive"]
    got = classifier.predict(sst2_sample(), batch_size=10)
    assert np.allclose([[r["probabilities"][k] for k in ("negative", "positive")] for r in got], probs, atol=1e-4)
    assert [r["label"] for r in got] == [["negative", "positive"][k] for k in probs.argmax(1)]
    assert classifier.predict(" ") == {"label": None, "probabilities": {}}  # no words, no opinion


def test_the_precision_asked_for_reaches_the_classifier_and_its_parser(food_to_movie):
    """bf16 where asked (``auto`` picks it on CPUs that run it natively): the classifier and the
    parser it brings both switch, in `load` and in the spaCy component, and the answers stay close."""
    import spacy
    import torch

    import xdomain_nlp

    model = food_to_movie[0] / "relational" / "model"
    texts = sst2_sample()[:8]
    fp32 = xdomain_nlp.load(model, device="cpu", precision="fp32")
    bf16 = xdomain_nlp.load(model, device="cpu", precision="bf16")
    assert fp32.dtype is None is fp32.parser.dtype and bf16.dtype == bf16.parser.dtype == torch.bfloat16
    for a, b in zip(fp32.predict(texts), bf16.predict(texts)):
        assert b["probabilities"] == pytest.approx(a["probabilities"], abs=0.05)
    nlp = spacy.blank("en")
    nlp.add_pipe("xdomain_sentiment", config={"model": str(model), "device": "cpu", "precision": "bf16"})
    nlp(texts[0])
    classifier = nlp.get_pipe("xdomain_sentiment").classifier
    assert classifier.dtype == classifier.parser.dtype == torch.bfloat16


def test_the_relational_model_in_spacy_carries_its_parser(food_to_movie):
    import spacy

    import xdomain_nlp

    tmp_path, _ = food_to_movie
    texts = sst2_sample()[:6]
    nlp = spacy.blank("en")
    nlp.add_pipe("xdomain_sentiment", config={"model": str(tmp_path / "relational" / "model"), "device": "cpu"})
    relational = xdomain_nlp.load(tmp_path / "relational" / "model", device="cpu").predict(texts)
    docs = list(nlp.pipe(texts))
    assert [d.cats for d in docs] == [pytest.approx(r["probabilities"], abs=1e-4) for r in relational]
    nlp.to_disk(tmp_path / "pipe")
    assert (tmp_path / "pipe/xdomain_sentiment/model/parser/xdomain.json").is_file()
    moved = {"components": {"xdomain_sentiment": {"model": "/gone", "parser": "/gone"}}}
    again = spacy.load(tmp_path / "pipe", config=moved)
    assert [again(t).cats for t in texts] == [pytest.approx(d.cats, abs=1e-4) for d in docs]


def test_the_sentiment_model_goes_to_the_hub_with_its_parser_and_comes_back(food_to_movie, tmp_path):
    import os
    import subprocess
    import sys

    import yaml
    from hub_server import TOKEN, start_hub

    from xdomain_nlp.hub import push_to_hub, stage_folder

    runs, _ = food_to_movie
    model = runs / "relational" / "model"
    meta = json.loads((model / "xdomain.json").read_text())
    out = stage_folder(model, tmp_path / "upload", "me/food-to-movie", local_paths="redact")
    assert (out / "parser" / "parser_head.safetensors").is_file() and (out / "graph_classifier.safetensors").is_file()
    readme = (out / "README.md").read_text()
    card = yaml.safe_load(readme.split("---")[1])
    assert card["pipeline_tag"] == "text-classification"
    values = {r["dataset"]["type"]: r["metrics"][0]["value"] for r in card["model-index"][0]["results"]}
    assert values == {s: round(meta["metrics"][s], 2) for s in ("sentiment:sst2:test", "sentiment:imdb:all")}
    assert "These scores are on 24 sentences of each evaluation set" in readme  # eval_limit=24: said plainly
    assert "`relational`: relational graph layers over the dependency parse" in readme

    server, state, url = start_hub()
    try:
        push_to_hub(model, "me/food-to-movie", token=TOKEN, endpoint=url, local_paths="redact")
        env = {**os.environ, "HF_ENDPOINT": url, "HF_HOME": str(tmp_path / "hf")}
        code = ("import json, xdomain_nlp; c = xdomain_nlp.load('me/food-to-movie', device='cpu'); "
                f"print(json.dumps([r['probabilities'] for r in c.predict({sst2_sample()[:4]!r})]))")  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        server.shutdown()
    local = xdomain_nlp_predict(model, sst2_sample()[:4])
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [pytest.approx(p, abs=1e-5) for p in local]


def test_the_sentiment_card_puts_the_in_domain_upper_bound_beside_the_scores(food_to_movie, overfit_parser, tmp_path):
    """``--upper-bound``: a model of the same recipe trained on target labels; its recorded scores
    stand beside the model's. A model trained on the source only is refused as a bound."""
    import shutil

    from xdomain_nlp.cli import main
    from xdomain_nlp.hub import HubPushError, stage_folder

    runs, _ = food_to_movie
    model, plain = runs / "relational" / "model", runs / "plain" / "model"
    with pytest.raises(HubPushError, match="none of the corpora the model is scored on .*trained on target labels"):
        stage_folder(model, tmp_path / "refused", "me/food-to-movie", upper_bound=plain, local_paths="redact")
    # The in-domain run: the plain model's files under a run that trained on SST-2 train (the recipe's
    # `train=[sentiment:sst2:train] methods=[plain]`), with the scores that run recorded.
    bound = tmp_path / "sst2_in_domain" / "plain" / "model"
    shutil.copytree(plain, bound)
    meta = json.loads((bound / "xdomain.json").read_text())
    meta["config"]["train"] = ["sentiment:sst2:train"]
    meta["metrics"] = {"sentiment:sst2:test": 91.5, "label_shift": "none"}
    (bound / "xdomain.json").write_text(json.dumps(meta))
    assert main(["push", str(model), "me/food-to-movie", "--dry-run", str(tmp_path / "out"), "--upper-bound",
                 str(bound), "--local-paths", "redact"]) == 0  # fmt: skip
    readme = (tmp_path / "out" / "README.md").read_text()
    scores = json.loads((model / "xdomain.json").read_text())["metrics"]
    assert "| accuracy | in-domain upper bound |" in readme
    assert f"| `sentiment:sst2:test` | {scores['sentiment:sst2:test']:.2f} | 91.50 |" in readme
    assert f"| `sentiment:imdb:all` | {scores['sentiment:imdb:all']:.2f} | not scored |" in readme
    assert "same recipe's `plain` model trained on `sentiment:sst2:train` (target-domain labels)" in readme
    assert "on 24 sentences of each set: its run had eval_limit" in readme
    with pytest.raises(HubPushError, match="--upper-bound is for sentiment models; this is a parsing model"):
        stage_folder(overfit_parser[0], tmp_path / "p", "me/parser", upper_bound=bound, local_paths="redact")


def test_the_sentiment_pipeline_packages_as_a_wheel_that_classifies_alike(food_to_movie, tmp_path):
    """`spacy package` of the relational pipeline (its parser inside) installs and gives the same cats."""
    import os
    import subprocess

    import spacy
    from conftest import packaged_pipeline

    runs, _ = food_to_movie
    texts = sst2_sample()[:3]
    nlp = spacy.blank("en")
    nlp.add_pipe("xdomain_sentiment", config={"model": str(runs / "relational" / "model"), "device": "cpu"})
    expected = [nlp(t).cats for t in texts]
    nlp.meta.update({"name": "food_to_movie", "version": "0.0.1"})
    nlp.to_disk(tmp_path / "pipeline")
    py, meta = packaged_pipeline(tmp_path / "pipeline", tmp_path)
    assert any(r.startswith("xdomain-nlp") for r in meta["requirements"])
    script = (
        "import json, sys, spacy\n"
        "cfg = {'components': {'xdomain_sentiment': {'model': '/gone', 'parser': '/gone', 'device': 'cpu'}}}\n"
        "nlp = spacy.load('en_food_to_movie', config=cfg)\n"
        "print(json.dumps([nlp(t).cats for t in json.loads(sys.argv[1])]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(py), "-c", script, json.dumps(texts)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [pytest.approx(c, abs=1e-4) for c in expected]


def xdomain_nlp_predict(model, texts):
    import xdomain_nlp

    return [r["probabilities"] for r in xdomain_nlp.load(model, device="cpu").predict(texts)]
