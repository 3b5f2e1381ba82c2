"""The relational benchmark's carry-over: runs not on disk keep their figures; parser and sentiment runs run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from conftest import REPO

SST2, IMDB = "sentiment:sst2:test", "sentiment:imdb:all"


@pytest.fixture()
def benchmark():
    spec = importlib.util.spec_from_file_location("relational_benchmark", REPO / "benchmarks" / "relational.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sentiment_run() -> dict:
    accuracies = {"plain": (80.0, 82.0), "relational": (83.0, 84.0)}
    runs = {
        f"{method}/seed{s}": {SST2: acc, IMDB: 90.0 + s, "ablation": {"neg": -1.0 - s}}
        for method, pair in accuracies.items()
        for s, acc in enumerate(pair)
    }
    config = {"methods": ["plain", "relational"], "ablate": ["neg"]}
    return {"config": config, "runs": runs, "run": {"git_commit": "new"}}


def one_seed(run: dict, seed: int, commit: str) -> dict:
    """The part of a run of all seeds that the recipe run with ``seeds=[seed]`` writes."""
    runs = {key: value for key, value in run["runs"].items() if key.endswith(f"/seed{seed}")}
    return {**run, "config": {**run.get("config", {}), "seeds": [seed]}, "runs": runs, "run": {"git_commit": commit}}


def parser_run() -> dict:
    return {"results": {"ud:en_ewt:test": {"uas": 88.0, "las": 85.0}}, "config": {}, "run": {"git_commit": "new"}}


def write_runs(runs, **metrics: dict) -> None:
    for name, run in metrics.items():
        (runs / name).mkdir(parents=True)
        (runs / name / "metrics.json").write_text(json.dumps(run))


def test_carry_over_keeps_missing_runs_and_measures_the_sentiment_run(benchmark, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    bound = {"runs": {f"plain/seed{s}": {SST2: 89.0 + s, IMDB: 93.0} for s in (0, 1)}}
    per_seed = {
        f"{name}_seed{s}": one_seed(run, s, f"{name} {s}")
        for name, run in (("sentiment_food_to_movie", sentiment_run()), ("sentiment_sst2_in_domain", bound))
        for s in (0, 1)
    }
    write_runs(runs, parser_ewt=parser_run(), **per_seed)
    carried = {key: f"old {key}" for keys in benchmark.CARRIED_KEYS.values() for key in keys}
    names = ["aspect_terms_seed0", "aspect_terms_seed1", "sentiment_blitzer"]
    previous = {**carried, "sst2_test_plain": 1.0, "measured_at": {n: f"commit of {n}" for n in names}}
    previous.update(command="python benchmarks/relational.py", git_commit="before")
    again = {"command": "python recipes/sentiment_blitzer.py", "git_commit": "clean"}
    previous["remeasured"] = {"sentiment_blitzer": again, "parser_ewt": {"command": "old", "git_commit": "old"}}
    out = tmp_path / "relational.json"
    out.write_text(json.dumps(previous))
    argv = ["relational.py", "--carry-over", "--seeds", "0,1", "--runs", str(runs), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)

    benchmark.main()

    result = json.loads(out.read_text())
    kept_from = {"command": "python benchmarks/relational.py", "git_commit": "before"}
    # a group measured again by its recipe alone is carried from that run, and says so
    assert result["carried_over"] == {"aspect_terms": kept_from, "sentiment_blitzer": again}
    assert result["remeasured"] == {"sentiment_blitzer": again}  # the parser ran now: its old entry is gone
    assert {k: result[k] for k in carried} == carried
    new = {"parser_ewt": "new", **{name: name.replace("_seed", " ") for name in per_seed}}
    assert result["measured_at"] == {**previous["measured_at"], **new}  # each seed's run with its own commit
    assert result["ewt_test_uas"] == 88.0  # the parser is never carried: the sentiment runs parse with it
    assert result["sst2_test_in_domain"] == 89.5  # nor the bound: it is measured with the runs it bounds
    assert result["sst2_test_plain"] == 81.0  # measured now, not the JSON's 1.0
    assert result["sst2_test_relational"] == 83.5
    assert result["relational_gain_sst2"] == {"mean": 2.5, "std": 0.71, "n": 2}
    assert result["relation_ablation_sst2"]["neg"]["mean"] == -1.5
    assert result["sentiment_config"]["seeds"] == [0, 1]


def test_each_seed_of_the_sentiment_runs_is_a_run_of_its_own(benchmark, tmp_path, monkeypatch):
    calls = []

    def recipe(name):
        def main(argv):
            out = Path(next(a for a in argv if a.startswith("output_dir="))[len("output_dir=") :])
            seed = int(next(a for a in argv if a.startswith("seeds="))[len("seeds=[") : -1])
            calls.append((out.name, seed))
            out.mkdir(parents=True)
            (out / "metrics.json").write_text(json.dumps(one_seed(sentiment_run(), seed, "now")))

        return main

    monkeypatch.setattr(benchmark, "recipe", recipe)
    runs = tmp_path / "runs"
    write_runs(runs, sentiment_food_to_movie_seed0=one_seed(sentiment_run(), 0, "before"))  # finished earlier
    names, measured = benchmark.sentiment_by_seed("sentiment_food_to_movie", runs, [0, 1], "label_shift=em")
    assert calls == [("sentiment_food_to_movie_seed1", 1)]  # a finished seed is not run again
    assert names == ["sentiment_food_to_movie_seed0", "sentiment_food_to_movie_seed1"]
    assert [m["run"]["git_commit"] for m in measured] == ["before", "now"]
    assert benchmark.merged(measured, [0, 1])["runs"] == sentiment_run()["runs"]


def test_carry_over_refuses_runs_the_json_does_not_name(benchmark, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    write_runs(runs, parser_ewt=parser_run())
    out = tmp_path / "relational.json"
    out.write_text(json.dumps({"command": "c", "git_commit": "g", "measured_at": {}}))
    argv = ["relational.py", "--carry-over", "--seeds", "0", "--runs", str(runs), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(ValueError, match=r"does not name the runs \['aspect_terms_seed0'\]"):
        benchmark.main()


def test_label_shift_runs_report_the_unadjusted_accuracy_first(benchmark):
    run = sentiment_run()
    run["config"]["label_shift"] = "em"
    for s, key in enumerate(("plain/seed0", "plain/seed1")):
        run["runs"][key].update(
            unadjusted={SST2: 78.0 + s, IMDB: 91.0}, target_priors={SST2: [0.5, 0.5], IMDB: [0.6, 0.4]}
        )
    run["config"]["methods"] = ["plain"]
    figures = benchmark.sentiment_figures(run, [0, 1])
    assert figures["sentiment"]["plain"][SST2] == {"mean": 78.5, "std": 0.71, "n": 2}  # the models' own argmax
    assert figures["sentiment_label_shift_em"]["plain"][SST2]["mean"] == 81.0
    assert figures["positive_prior_estimated"]["plain"][IMDB]["mean"] == 0.4
