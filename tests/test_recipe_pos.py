"""End-to-end runs of recipes/pos_en_de.py on a small slice of the real corpora."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import recipe_names
from safetensors.torch import load_file

from xdomain_nlp.data import load_corpus
from xdomain_nlp.training import transfer_pairs

REPO = Path(__file__).resolve().parents[1]
RECIPE = recipe_names("pos_en_de")
main = RECIPE["main"]

TINY = ["train_limit=32", "batch_size=8", "max_length=64", "window_overlap=16", "lr=1.0e-3", "convention=''"]

pytestmark = pytest.mark.slow


def run(out: Path, *overrides: str) -> dict:
    return main(["--config", str(REPO / "recipes/configs/pos_en_de.yaml"), f"output_dir={out}", *TINY, *overrides])


def test_train_evaluate_save_and_load_back(tmp_path, e5_dir):
    from transformers import AutoModelForTokenClassification

    from xdomain_nlp.tagging import load_tagger

    results = run(
        tmp_path,
        "epochs=1",
        "eval=[ud:en_pud:test, ud:de_gsd:test]",
        "eval_limit=25",
        "convention=ud_de",
        "convention_sentences=24",
        "convention_eval=[ud:de_gsd:test]",
    )
    report = results["ud:de_gsd:test"]
    assert report["words"] == sum(len(w) for w in load_corpus("ud:de_gsd:test")["words"][:25])
    assert 0.0 <= report["accuracy"] <= 100.0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["results"]["ud:de_gsd:test"]["per_tag"]["NOUN"]["support"] > 0
    assert metrics["run"]["git_commit"]
    assert (tmp_path / "confusion_ud_de_gsd_test.png").stat().st_size > 1000
    assert (tmp_path / "reliability_ud_de_gsd_test.png").stat().st_size > 1000
    assert (tmp_path / "transfer_gap_ud_en_pud_test_vs_ud_de_gsd_test.png").stat().st_size > 1000
    assert transfer_pairs(["ud:en_ewt:train"], ["ud:de_gsd:dev", "ud:en_ewt:dev", "ud:en_pud:test", "x.conllu"]) == [
        ("ud:en_pud:test", "ud:de_gsd:dev")
    ]
    calibration = metrics["results"]["ud:de_gsd:test"]["calibration"]
    assert sum(b["count"] for b in calibration["bins"]) == report["words"] and 0.0 <= calibration["ece"] <= 1.0
    convention = metrics["convention"]
    assert convention["changed"]["PRON[Poss=Yes] -> DET"] > 0
    assert convention["results"]["ud:de_gsd:test"]["words"] == report["words"]
    assert (tmp_path / "confusion_ud_de_gsd_test_ud_de.png").is_file()
    tagger, tokenizer, meta = load_tagger(tmp_path / "model")
    assert tagger.labels[:3] == ["ADJ", "ADP", "ADV"] and meta["tag_set"] == "upos"
    assert tagger.available_tag_sets == ["upos", "ud_de"] and "ud:de_gsd:test" in meta["metrics_by_tag_set"]["ud_de"]
    hf = AutoModelForTokenClassification.from_pretrained(tmp_path / "model")
    assert hf.config.id2label[7] == "NOUN"


def test_resume_after_interruption_matches_uninterrupted(tmp_path, e5_dir):
    run(tmp_path / "full", "epochs=2", "eval=[]")
    assert run(tmp_path / "cut", "epochs=2", "eval=[]", "stop_after_steps=3") == {}
    assert (tmp_path / "cut/checkpoints/step_3/progress.json").is_file()
    run(tmp_path / "cut", "epochs=2", "eval=[]")
    full = load_file(tmp_path / "full/model/model.safetensors")
    cut = load_file(tmp_path / "cut/model/model.safetensors")
    initial = load_file(e5_dir / "model.safetensors")
    assert not torch.equal(full["classifier.weight"], torch.zeros_like(full["classifier.weight"]))
    key = "bert.encoder.layer.11.output.dense.weight"
    assert not torch.allclose(full[key], initial["encoder.layer.11.output.dense.weight"])
    for name in full:
        torch.testing.assert_close(cut[name], full[name], rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.parametrize("batches", ["sentences", "tokens"])
def test_two_cpu_processes_keep_gradients_in_sync_and_train_on_every_window_once(tmp_path, e5_dir, batches):
    """Batches of 8 sentences per process, or of 600 pieces (``global_batch_tokens=1200``)."""
    extra = ["global_batch_tokens=1200"] if batches == "tokens" else []
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    torchrun = Path(sys.executable).with_name("torchrun")
    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    subprocess.run(
        [
            str(torchrun),
            "--nproc_per_node",
            "2",
            "--master_port",
            port,
            str(REPO / "tests/ddp_worker.py"),
            str(tmp_path),
            *extra,
        ],
        check=True,
        env=env,
        cwd=REPO,
        timeout=900,
    )
    report = json.loads((tmp_path / "ddp.json").read_text())
    assert report["world_size"] == 2 and "MULTI_CPU" in report["distributed_type"]
    (sum0, sq0, moved0, tokens0), (sum1, sq1, moved1, tokens1) = report["per_rank"]
    assert moved0 > 0  # training changed the weights...
    assert sum0 == pytest.approx(sum1, rel=1e-6, abs=1e-4) and sq0 == pytest.approx(sq1, rel=1e-6)  # ...identically
    assert tokens0 > 0 and tokens1 > 0 and tokens0 + tokens1 == report["dataset_tokens"]  # each saw its own half
    seen0, seen1 = report["seen_by_rank"]
    assert sorted(seen0 + seen1) == list(range(report["windows"]))  # every window once, the short batch included
    assert report["setup"].pop("device").startswith("cpu")  # cpu:0 for the rank that writes the report
    setup = {"world_size": 2, "per_process_batch_size": 8, "gradient_accumulation_steps": 1, "global_batch_size": 16,
             "mixed_precision": "no"}  # fmt: skip
    if batches == "sentences":
        batches = -(-report["windows"] // 8)
        assert batches % 2 == 1  # an odd count: one rank would be a batch short without the halving
        assert report["steps"] == report["loader_batches"] == (batches + 1) // 2  # the bar and scheduler count these
        assert report["setup"] == setup
    else:
        assert report["sampler_batches"] % 2 == 0 and report["sampler_batches"] > 2
        assert report["steps"] == report["loader_batches"] == report["sampler_batches"] // 2
        assert report["setup"] == {**setup, "per_process_batch_tokens": 600, "global_batch_tokens": 1200}


def test_runs_unchanged_under_accelerate_launch_and_follows_its_settings(tmp_path, e5_dir):
    """The launcher's precision and accumulation are used; asking for 2 processes and getting 1 is said."""
    launcher = Path(sys.executable).with_name("accelerate")
    done = subprocess.run(
        [
            str(launcher), "launch", "--cpu", "--num_processes", "2", "--num_machines", "1",
            "--mixed_precision", "bf16", "--gradient_accumulation_steps", "2", "--dynamo_backend", "no",
            str(REPO / "recipes/pos_en_de.py"), "--config", str(REPO / "recipes/configs/pos_en_de.yaml"),
            f"output_dir={tmp_path}", "train_limit=16", "batch_size=8", "max_length=64", "window_overlap=16",
            "epochs=1", "eval=[ud:en_pud:test]", "eval_limit=5", "convention=''",
        ],
        check=True, cwd=REPO, timeout=600, capture_output=True, text=True,
    )  # fmt: skip
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["results"]["ud:en_pud:test"]["words"] > 0
    assert (tmp_path / "model/model.safetensors").is_file()
    assert metrics["setup"]["mixed_precision"] == "bf16" and metrics["setup"]["gradient_accumulation_steps"] == 2
    assert metrics["setup"]["world_size"] == 1 and metrics["history"] == []
    warnings = [line for line in done.stderr.splitlines() if line.startswith("xdomain_nlp: warning:")]
    assert len(warnings) == 1 and "asked for 2 processes and this run has 1" in warnings[0]


def test_sentence_weights_reach_every_word_of_every_window(e5_dir):
    from xdomain_nlp.encoders import load_tokenizer
    from xdomain_nlp.tagging import UPOS, collate_windows, encode_corpus, with_word_weights

    tokenizer = load_tokenizer(str(e5_dir))
    corpus = load_corpus("ud:en_ewt:test").select(range(3))
    label2id = {t: i for i, t in enumerate(UPOS)}
    windows = encode_corpus(corpus, tokenizer, label_column="upos", label2id=label2id, max_length=16, overlap=4)
    assert len(windows) > 3  # some sentence spans several windows
    weights = torch.tensor([0.5, 2.0, 0.0])
    batch = with_word_weights(collate_windows(windows, tokenizer.pad_token_id), windows, weights)
    assert batch["weights"].shape == batch["labels"].shape
    expected = [weights[w.sentence].item() for w in windows for _ in w.labels]
    assert batch["weights"].tolist() == expected
    assert sorted(set(expected)) == [0.0, 0.5, 2.0]
    assert "weights" not in with_word_weights(collate_windows(windows, tokenizer.pad_token_id), windows, None)


def test_instance_weights_from_target_text_enter_training(tmp_path, e5_dir):
    """reweight=kliep: weights fitted between EWT email sentences and unlabelled review text."""
    run(
        tmp_path,
        "epochs=1",
        "eval=[]",
        "train=ud:en_ewt:train[genre=email]",
        "reweight=kliep",
        "reweight_target=ud:en_ewt:dev[genre=reviews]",
        "reweight_target_sample=64",
    )
    info = json.loads((tmp_path / "metrics.json").read_text())["reweighting"]
    assert info["method"] == "kliep" and info["sentences"] == 32
    assert 1.0 <= info["effective_sample_size"] <= 32.0 and info["max_weight"] >= 1.0
    with pytest.raises(ValueError, match="reweight = kliep: needs reweight_target"):
        run(tmp_path / "bad", "epochs=1", "eval=[]", "reweight=kliep")
    with pytest.raises(ValueError, match="reweight.*choose one of none, domain_classifier"):
        run(tmp_path / "bad2", "epochs=1", "eval=[]", "reweight=importance", "reweight_target=ud:en_ewt:dev")
