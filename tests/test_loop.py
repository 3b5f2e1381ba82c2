"""The one training loop: exact resume, damaged checkpoints named and skipped, instance weights."""

import warnings

import pytest
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader

from xdomain_nlp.training import (
    CheckpointDir,
    CheckpointError,
    LengthGroupedBatchSampler,
    fit,
    weighted_cross_entropy,
)


def regression_run(out, log_with=None, **kwargs):
    """A small real network on a fixed regression problem, trained through `fit` with checkpoints."""
    accelerator = Accelerator(cpu=True, log_with=log_with, project_dir=out)
    if log_with:
        accelerator.init_trackers("run")
    torch.manual_seed(0)
    x = torch.randn(96, 8)
    y = (x @ torch.randn(8, 1)).squeeze(-1)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Dropout(0.1), torch.nn.Linear(16, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sampler = LengthGroupedBatchSampler([1] * len(x), 8, seed=1, group_size=1)
    loader = DataLoader(
        list(range(len(x))), batch_sampler=sampler, generator=torch.Generator().manual_seed(0),
        collate_fn=lambda idx: {"x": x[idx], "y": y[idx]},
    )  # fmt: skip
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)

    def loss(model, batch):
        return (model(batch["x"]).squeeze(-1) - batch["y"]).square().mean()

    result = fit(
        model, optimizer, loader, loss, accelerator=accelerator, epochs=3, max_grad_norm=1.0,
        checkpoints=CheckpointDir(out / "checkpoints"), checkpoint_every=5, count_items=lambda b: len(b["y"]), **kwargs,
    )  # fmt: skip
    accelerator.end_training()
    return result, torch.cat([p.detach().flatten() for p in model.parameters()])


def test_a_tracker_gets_the_loss_the_learning_rate_and_the_eval_scores(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result, _ = regression_run(tmp_path, log_with="tensorboard", log_every=4, on_epoch_end=lambda e: {"dev": 10.0 / e})
    events = EventAccumulator(str(next((tmp_path / "run").rglob("events.out.tfevents.*")).parent)).Reload()
    scalars = {tag: [(e.step, round(e.value, 4)) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
    assert scalars["eval/dev"] == [(12, 10.0), (24, 5.0), (36, 3.3333)]  # 96 examples, 8 a step, 3 epochs
    assert [step for step, _ in scalars["train/lr"]] == [c["step"] for c in result.state.curve]
    assert [v for _, v in scalars["train/loss"]] == pytest.approx([c["loss"] for c in result.state.curve], abs=1e-3)
    assert result.state.history == [{"epoch": e, "dev": 10.0 / e} for e in (1, 2, 3)]


def test_a_killed_run_resumes_to_the_same_weights(tmp_path):
    _, straight = regression_run(tmp_path / "straight")
    stopped, _ = regression_run(tmp_path / "resumed", stop_after_steps=7)
    assert not stopped.finished and stopped.state.step == 7
    resumed, weights = regression_run(tmp_path / "resumed")
    assert resumed.finished and resumed.resumed_from.endswith("step_7")
    assert resumed.state.step == 36
    assert torch.equal(weights, straight)


def test_a_damaged_newest_checkpoint_is_named_and_an_older_one_used(tmp_path):
    regression_run(tmp_path, stop_after_steps=7)
    older = tmp_path / "checkpoints" / "step_5"
    assert not older.exists()  # one kept by default: make an older one by hand
    regression_run(tmp_path / "two", stop_after_steps=5)
    (tmp_path / "two" / "checkpoints" / "step_5").rename(older)
    newest = tmp_path / "checkpoints" / "step_7" / "model.safetensors"
    newest.write_bytes(newest.read_bytes()[:100])  # cut off, as by a full disk
    with pytest.warns(UserWarning, match=r"step_7 is skipped: model.safetensors has 100 bytes"):
        result, _ = regression_run(tmp_path)
    assert result.resumed_from.endswith("step_5") and result.finished


def test_an_unfinished_checkpoint_is_skipped_with_a_warning(tmp_path):
    regression_run(tmp_path, stop_after_steps=5)
    (tmp_path / "checkpoints" / "step_5" / "progress.json").unlink()
    with pytest.warns(UserWarning, match="step_5 is skipped: no progress.json"):
        result, _ = regression_run(tmp_path)
    assert result.resumed_from is None and result.state.step == 36


def test_a_checkpoint_that_fails_part_way_through_loading_stops_the_run(tmp_path):
    regression_run(tmp_path, stop_after_steps=5)
    folder = tmp_path / "checkpoints" / "step_5"
    optimizer = folder / "optimizer.bin"
    size = optimizer.stat().st_size
    optimizer.write_bytes(b"\0" * size)  # same size, unreadable content
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CheckpointError, match=r"step_5.*Remove .*checkpoints to start afresh"):
            regression_run(tmp_path)


def test_nothing_to_train_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="nothing to train: epochs=0"):
        fit(None, None, [], None, epochs=0)


def test_weighted_cross_entropy_is_the_mean_without_weights_and_ignores_minus_100():
    logits = torch.randn(5, 3)
    labels = torch.tensor([0, 2, -100, 1, 1])
    plain = torch.nn.functional.cross_entropy(logits, labels)
    assert torch.allclose(weighted_cross_entropy(logits, labels), plain)
    assert torch.allclose(weighted_cross_entropy(logits, labels, torch.full((5,), 3.0)), plain)
    weights = torch.tensor([2.0, 1.0, 5.0, 1.0, 1.0])  # an integer weight counts like a repeated item
    repeated = torch.nn.functional.cross_entropy(logits[[0, 0, 1, 3, 4]], labels[[0, 0, 1, 3, 4]])
    assert torch.allclose(weighted_cross_entropy(logits, labels, weights), repeated)
