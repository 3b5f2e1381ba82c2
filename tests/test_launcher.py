"""What `accelerate launch` was asked for, and which settings a run then uses."""

from __future__ import annotations

import pytest

from xdomain_nlp.configs import POSTransferConfig
from xdomain_nlp.training import load_config, resolve_mixed_precision
from xdomain_nlp.training.accelerator import launch_settings
from xdomain_nlp.training.launcher import LaunchRequest, parse_launch_command


def test_launch_flags_before_the_script_are_read_and_the_script_arguments_are_not():
    argv = [
        "/venv/bin/python", "/venv/bin/accelerate", "launch", "--cpu", "--num-processes=2", "--mixed_precision",
        "bf16", "--main_process_port", "29501", "--gradient_accumulation_steps", "4", "recipes/pos_en_de.py",
        "--config", "x.yaml", "--num_processes", "8",
    ]  # fmt: skip
    assert parse_launch_command(argv) == LaunchRequest("bf16", 4, 2, cpu=True)
    assert parse_launch_command(["python", "recipes/pos_en_de.py", "--config", "x.yaml"]) is None
    assert parse_launch_command(["accelerate", "launch", "recipes/pos_en_de.py"]) == LaunchRequest()


def test_launcher_wins_over_defaults_and_an_explicit_config_wins_with_one_line(capsys, monkeypatch):
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)
    monkeypatch.delenv("ACCELERATE_GRADIENT_ACCUMULATION_STEPS", raising=False)
    defaults = load_config(POSTransferConfig)
    assert launch_settings(defaults, LaunchRequest("bf16", 2)) == ("bf16", 2)
    assert launch_settings(defaults, None) == (launch_settings(defaults, LaunchRequest())[0], 1)
    assert capsys.readouterr().err == ""
    explicit = load_config(POSTransferConfig, None, ["mixed_precision=no", "gradient_accumulation_steps=3"])
    assert launch_settings(explicit, LaunchRequest("bf16", 2)) == ("no", 3)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(line.startswith("xdomain_nlp: warning: accelerate launch asked") for line in lines)
    assert "mixed_precision: no" in lines[0] and "gradient_accumulation_steps: 3" in lines[1]


def test_a_precision_exported_outside_the_launcher_is_the_one_for_every_default(monkeypatch):
    """`ACCELERATE_MIXED_PRECISION=no` set by hand (not by `accelerate launch`, which always sets it)
    makes auto and native run in fp32; a config that names its precision keeps it."""
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")
    native = load_config(POSTransferConfig)  # mixed_precision: native
    assert native.mixed_precision == "native"
    assert launch_settings(native, None)[0] == "no"
    # Under `accelerate launch` an exported "no" only means that no precision was asked for.
    assert launch_settings(native, LaunchRequest())[0] == resolve_mixed_precision("native")
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    assert launch_settings(native, None)[0] == "bf16"
    explicit = load_config(POSTransferConfig, None, ["mixed_precision=no"])
    assert launch_settings(explicit, None)[0] == "no"


@pytest.mark.parametrize("total, message", [(30, "global_batch_size = 30: must split evenly over 1 process")])
def test_global_batch_that_does_not_split_is_refused(total, message):
    from accelerate import Accelerator

    from xdomain_nlp.training import per_process_batch_size

    cfg = load_config(POSTransferConfig, None, [f"global_batch_size={total}", "gradient_accumulation_steps=4"])
    accelerator = Accelerator(gradient_accumulation_steps=4, cpu=True)
    with pytest.raises(ValueError, match=message):
        per_process_batch_size(cfg, accelerator)
    cfg = load_config(POSTransferConfig, None, ["global_batch_size=32", "gradient_accumulation_steps=4"])
    assert per_process_batch_size(cfg, accelerator) == 8


def test_a_bare_no_is_the_word_for_text_settings():
    assert load_config(POSTransferConfig, None, ["mixed_precision=no"]).mixed_precision == "no"


def test_a_second_precision_in_one_process_is_refused_in_one_line(tmp_path):
    """accelerate keeps a process's first mixed precision; asking for another names the way out."""
    from xdomain_nlp.errors import InputError
    from xdomain_nlp.training import make_accelerator

    first = load_config(POSTransferConfig, None, [f"output_dir={tmp_path / 'a'}", "mixed_precision=no"])
    make_accelerator(first).end_training()
    other = load_config(POSTransferConfig, None, [f"output_dir={tmp_path / 'b'}", "mixed_precision=bf16"])
    with pytest.raises(InputError, match="already trained with another mixed precision; mixed_precision=bf16"):
        make_accelerator(other)
    assert not (tmp_path / "b" / ".xdomain-run.lock").exists()  # refused before the run took its folder
