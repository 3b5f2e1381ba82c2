"""The end of a recipe, written once: one metrics.json schema, checkpoints cleared, the folder named."""

from __future__ import annotations

import json

from conftest import REPO

from xdomain_nlp.configs import ParserConfig
from xdomain_nlp.training import CheckpointDir, FitResult, FitState, SingleProcess, finish_run, stopped_early
from xdomain_nlp.training.config import load_config


def test_metrics_have_one_schema_and_the_checkpoints_go(tmp_path, capsys):
    cfg = load_config(ParserConfig, REPO / "recipes/configs/parser_ewt.yaml", [f"output_dir={tmp_path}"])
    (tmp_path / "checkpoints/step_3").mkdir(parents=True)
    state = FitState(step=12, history=[{"epoch": 0, "dev": 80.0}], curve=[{"step": 10, "loss": 0.5}])
    fitted = FitResult(state=state, finished=True, train_seconds=2.0, items_per_s=50.0, pieces_per_s=90.0)
    finish_run(
        cfg, {"ud:en_ewt:dev": {"uas": 80.0}}, accelerator=SingleProcess(), fit_result=fitted,
        save=lambda out: (out / "model").mkdir() or (out / "model/weights").touch(), lr_scale=1.0,
    )  # fmt: skip
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert list(metrics)[:5] == ["config", "setup", "results", "history", "curve"]
    assert metrics["history"] == [{"epoch": 0, "dev": 80.0}] and metrics["run"]["git_commit"]
    assert metrics["train_pieces_per_s"] == 90.0 and metrics["lr_scale"] == 1.0
    assert metrics["setup"]["world_size"] == 1 and metrics["config"]["output_dir"] == "."  # relative to the run
    assert not CheckpointDir(tmp_path / "checkpoints").steps()  # the model is saved: the checkpoints go
    assert capsys.readouterr().out.strip().endswith(f"results in {tmp_path}: metrics.json, model/, training.png")
    assert (tmp_path / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_stopped_run_says_so_and_saves_nothing(capsys):
    stopped = FitResult(state=FitState(step=4), finished=False)
    assert stopped_early(stopped, SingleProcess(), " in round 1")
    assert capsys.readouterr().out.strip() == "stopped in round 1 after 4 steps; run again to resume"
    assert not stopped_early(FitResult(state=FitState(step=4), finished=True), SingleProcess())
