"""Building blocks of the loop: batches, parameter groups, configs, metrics."""

from dataclasses import dataclass

import pytest
from transformers import BertConfig, BertForTokenClassification

from xdomain_nlp.training import (
    ConfigError,
    LengthGroupedBatchSampler,
    RecipeConfig,
    load_config,
    setting,
    tagging_report,
)
from xdomain_nlp.training.optim import transfer_param_groups


def test_length_grouped_batches_are_deterministic_and_complete():
    lengths = [(i * 37) % 101 + 1 for i in range(1000)]
    sampler = LengthGroupedBatchSampler(lengths, 16, seed=3, group_size=8)
    first = list(sampler)
    assert list(sampler) == first
    assert sorted(i for b in first for i in b) == list(range(1000))
    sampler.set_epoch(1)
    assert list(sampler) != first
    # Grouping: padding waste far below that of random batches.
    waste = sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in first)
    plain = [list(range(i, min(i + 16, 1000))) for i in range(0, 1000, 16)]
    plain_waste = sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in plain)
    assert waste < plain_waste / 4


def tiny_bert():
    config = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=4, num_attention_heads=2, intermediate_size=32, num_labels=3
    )
    return BertForTokenClassification(config)


def test_param_groups_freeze_and_decay():
    model = tiny_bert()
    groups = transfer_param_groups(
        model, lr=1.0, head_lr=10.0, layer_decay=0.5, freeze_embeddings=True, freeze_layers=1
    )
    trainable = {id(p) for g in groups for p in g["params"]}
    for name, p in model.named_parameters():
        frozen = "embeddings" in name or ".layer.0." in name
        assert p.requires_grad == (not frozen), name
        assert (id(p) in trainable) == (not frozen), name
    lrs = {round(g["lr"], 6) for g in groups}
    assert lrs == {10.0, 0.5, 0.25, 0.125}  # head, layer 3, 2, 1
    assert all(g["weight_decay"] == 0.0 for g in groups if all(p.ndim == 1 for p in g["params"]))


@dataclass
class Small(RecipeConfig):
    lr: float = setting(1e-3, above=0.0)
    epochs: int = setting(1, minimum=1)
    name: str = "x"
    flag: bool = True
    train: list[str] = setting(["a:train"])


def test_config_reports_every_problem(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("lr: 2.0e-5\nbogus: 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(Small, path, ["epochs=two", "also_bogus=1", "novalue"])
    message = str(err.value)
    for expected in ["unknown setting 'bogus'", "'also_bogus'", "'novalue' is not key=value", "'epochs' = 'two'"]:
        assert expected in message
    cfg = load_config(Small, None, ["lr=1e-4", "flag=false"])
    assert cfg.lr == 1e-4 and cfg.flag is False


def test_list_settings_take_one_item_or_a_list():
    assert load_config(Small, None, ["train=b:train"]).train == ["b:train"]
    assert load_config(Small, None, ["train=[a:train, b:train]"]).train == ["a:train", "b:train"]
    with pytest.raises(ConfigError, match="'name' = \\['y'\\]: expected a string"):
        load_config(Small, None, ["name=[y]"])


def test_tagging_report_counts():
    report = tagging_report([[0, 1, 2], [2, 2]], [[0, 2, 2], [2, 1]], ["A", "B", "C"])
    assert report["accuracy"] == pytest.approx(60.0)
    assert report["confusion"] == [[1, 0, 0], [0, 0, 1], [0, 1, 2]]
    assert report["per_tag"]["C"]["recall"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="sentence 1"):
        tagging_report([[0], [1, 1]], [[0], [1]], ["A", "B"])


def test_calibration_bins_and_the_expected_calibration_error():
    from xdomain_nlp.training.metrics import calibration_report

    # 0.95 twice (one right), 0.55 twice (both right), 1.0 falls in the top bin
    report = calibration_report([0.95, 0.95, 0.55, 0.55, 1.0], [True, False, True, True, True], bins=10)
    top, middle = report["bins"][9], report["bins"][5]
    assert top == {"low": 0.9, "high": 1.0, "count": 3, "confidence": pytest.approx(0.9667, abs=1e-4),
                   "accuracy": pytest.approx(0.6667, abs=1e-4)}  # fmt: skip
    assert middle["count"] == 2 and middle["accuracy"] == 1.0 and report["bins"][0]["count"] == 0
    assert report["ece"] == pytest.approx((3 * 0.3 + 2 * 0.45) / 5, abs=1e-3)


def test_transfer_gaps_put_the_largest_drop_first_and_skip_tags_the_target_lacks():
    from xdomain_nlp.training.metrics import transfer_gaps

    english = tagging_report([[0, 1, 2, 2]], [[0, 1, 2, 2]], ["A", "B", "C"])  # all right
    german = tagging_report([[0, 1, 1, 0]], [[0, 0, 1, 0]], ["A", "B", "C"])  # B half wrong, no C
    rows = transfer_gaps(english, german)
    assert [r["tag"] for r in rows] == ["B", "A"] and [r["support"] for r in rows] == [2, 2]
    assert rows[0]["gap"] == pytest.approx(1 - 2 / 3) and rows[1]["gap"] == pytest.approx(1 - 0.8)


def test_weight_averager_is_the_mean_of_due_snapshots():
    import torch

    from xdomain_nlp.training import WeightAverager

    model = torch.nn.Linear(2, 1)
    model.bias.requires_grad_(False)
    averager = WeightAverager(model, start_step=3, every=2)
    seen = []
    for step in range(1, 9):
        with torch.no_grad():
            model.weight.fill_(float(step))
        averager.update(model, step)
        if step >= 3 and (step - 3) % 2 == 0:
            seen.append(step)
    assert seen == [3, 5, 7] and averager.count == 3
    restored = WeightAverager(model, start_step=0)
    restored.load_state_dict(averager.state_dict())
    restored.copy_to(model)
    assert model.weight.tolist() == [[5.0, 5.0]]
    assert restored.names == ["weight"]  # frozen parameters are left alone
