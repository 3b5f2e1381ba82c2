"""What a user gets for a mistake: one line that names what to fix, exit code 2, no traceback.

Each case asserts the message itself, not only that something failed. ``--debug`` (or
``XDOMAIN_NLP_DEBUG=1``) lets the traceback through for a bug report.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO, recipe_main

from xdomain_nlp.cli import main as cli
from xdomain_nlp.errors import run_for_people

POS = ["--config", str(REPO / "recipes/configs/pos_en_de.yaml")]
NOTE = re.compile(r"xdomain_nlp: (?!warning: |error: )")  # an information line, e.g. a new head's tensors


def stopped(capsys, main, argv: list[str], prog: str) -> list[str]:
    """Run ``main`` as a user would; the lines it printed on stderr after exiting with code 2."""
    with pytest.raises(SystemExit) as exit_info:
        run_for_people(main, prog, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    err = [line for line in err if not NOTE.match(line)]  # what was loaded before the mistake was met
    assert err and err[0].startswith(f"{prog}: error: ") and not any("Traceback" in line for line in err)
    return err


@pytest.mark.parametrize(
    "override, message",
    [
        ("epochs=-1", "'epochs' = -1: must be at least 1"),
        ("lr=0", "'lr' = 0"),
        ("eval=[ud:de_gsd:tset]", "setting 'eval': corpus 'ud:de_gsd' has no split 'tset'"),
        ("ephocs=2", "unknown setting (did you mean 'epochs'?)"),
        ("window_overlap=300", "window_overlap = 300: must be at least 0 and below max_length = 256"),
        ("mixed_precision=fp64", "'mixed_precision' = 'fp64': choose one of auto, native, no, bf16, fp16"),
        ("reweight=kliep", "reweight = kliep: needs reweight_target"),
        ("batch_size=many", "'batch_size' = 'many'"),
    ],
)
def test_a_bad_recipe_setting_is_reported_before_anything_loads(capsys, override, message):
    err = stopped(capsys, recipe_main("pos_en_de"), [*POS, "output_dir=/nonexistent/never-made", override], "pos_en_de")
    assert err[0].startswith("pos_en_de: error: 1 problem(s) in the POSTransferConfig:")
    assert message in "\n".join(err[1:])


def test_every_problem_of_a_config_at_once(capsys):
    err = stopped(capsys, recipe_main("pos_en_de"), [*POS, "epochs=0", "batch_size=0", "seeed=1"], "pos_en_de")
    assert err[0] == "pos_en_de: error: 3 problem(s) in the POSTransferConfig:" and len(err) == 4


def test_a_missing_config_file_is_named(capsys):
    err = stopped(capsys, recipe_main("parser_ewt"), ["--config", "recipes/configs/nope.yaml"], "parser_ewt")
    assert err == ["parser_ewt: error: config file recipes/configs/nope.yaml does not exist"]


def test_a_config_that_is_not_yaml_is_named(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: [1, 2\n")
    err = stopped(capsys, recipe_main("parser_ewt"), ["--config", str(bad)], "parser_ewt")
    assert err[0].startswith(f"parser_ewt: error: {bad}: not valid YAML")


def test_cli_tag_set_the_model_lacks(capsys, tiny_tagger):
    with pytest.raises(SystemExit) as exit_info:
        cli(["tag", str(tiny_tagger), "ud:de_gsd:test", "--tag-set", "ptb"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == f"xdomain-nlp: error: {tiny_tagger}: no tag set 'ptb'; it has ['upos']\n"


def test_cli_error_is_one_line_with_code_2_and_debug_shows_the_traceback(tmp_path):
    missing = tmp_path / "no-such-corpus.conllu"
    command = [sys.executable, "-m", "xdomain_nlp.cli", "mapping", "estimate", "upos", "stts", "--corpus", str(missing)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("xdomain-nlp: error: ") and str(missing.name) in done.stderr
    debug = subprocess.run([*command, "--debug"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


def test_cli_push_without_a_token_is_one_line(capsys, tiny_tagger, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no saved login either
    with pytest.raises(SystemExit) as exit_info:
        cli(["push", str(tiny_tagger), "me/pos-en-de"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "xdomain-nlp: error: no Hugging Face token: set HF_TOKEN, pass --token, or run `hf auth login`\n"
    )


def test_a_checkpoint_that_fails_part_way_is_a_user_error(capsys, tmp_path):
    """CheckpointError (a load that failed part-way: delete the checkpoint or start afresh) is one line too."""
    from xdomain_nlp.training import CheckpointError

    def main(argv):
        raise CheckpointError(f"{tmp_path}/checkpoints/step_3: model.safetensors: header too large")

    err = stopped(capsys, main, [], "pos_en_de")
    assert err == [f"pos_en_de: error: {tmp_path}/checkpoints/step_3: model.safetensors: header too large"]


def test_a_model_path_that_does_not_exist_is_named_at_once(capsys, tmp_path):
    missing = tmp_path / "runs" / "pos_en_de" / "model"
    err = stopped(capsys, recipe_main("pos_en_de"), [*POS, f"output_dir={tmp_path}/out", f"model={missing}"], "pos")
    assert err == [f"pos: error: {missing}: no such model directory (a Hub id is 'name' or 'owner/name')"]


def test_a_hub_id_that_is_neither_cached_nor_reachable_fails_in_seconds(capsys, tmp_path, monkeypatch):
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on: the Hub is unreachable
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    argv = [*POS, f"output_dir={tmp_path}/out", "model=someone/not-cached-anywhere"]
    err = stopped(capsys, recipe_main("pos_en_de"), argv, "pos")
    assert err[0].startswith(f"pos: error: someone/not-cached-anywhere: not in the Hugging Face cache and the Hub at "
                             f"http://127.0.0.1:{port} cannot be reached")  # fmt: skip
    assert err[0].endswith("download it once where the Hub is reachable, or pass a local model directory")


# Users' own data: each message names the file, the line and what is wrong with it.
E = "xdomain-nlp: error: "


def cli_error(capsys, argv: list[str]) -> list[str]:
    return stopped(capsys, cli, argv, "xdomain-nlp")


BAD_FILES = [
    ("r.tsv", "text\tlabel\nfine\tneutral\n", "", "r.tsv:2: label 'neutral' is not one of 0 / 1 / neg / negative"),
    ("r.csv", "stars,review\n5,great\n", "", "r.csv:1: no header naming a 'text' column; say which columns"),
    ("r.csv", 'text,label\n"open quote,1\n', "", "r.csv:2: expected at least 2 columns, found 1"),
    ("r.tsv", "text\tlabel\n\t1\n", "", "r.tsv:2: the text is empty"),
    ("r.jsonl", '{"text": "ok", "label": 1}\n{"text": "no", label: 0}\n', "", "r.jsonl:2: not valid JSON"),
    ("r.jsonl", '["ok", 1]\n', "", "r.jsonl:1: expected a JSON object, found list"),
    ("r.jsonl", '{"review": "ok", "label": 1}\n', "", "r.jsonl:1: no 'text' text (fields: ['label', 'review'])"),
    ("t.jsonl", '{"words": ["a", "b"], "upos": ["DET"]}\n', "", "t.jsonl:1: 'upos' must be a list of 2 tags"),
    ("t.jsonl", '{"words": ["a", ""]}\n', "", "t.jsonl:1: 'words' must be a non-empty list of non-empty strings"),
    ("e.conllu", "", "", "e.conllu: no sentences in it"),
    ("f.conllu", "1\t\t_\tX\t_\t_\t0\troot\t_\t_\n\n", "", "f.conllu:1: token 1 has an empty FORM"),
    ("r.xlsx", "x", "", "r.xlsx: unknown file type '.xlsx'; use one of .conllu, .conll, .jsonl, .txt, .tsv, .csv"),
    ("r.tsv", "text\tlabel\nok\t1\n", "[text_colum=review]", "r.tsv has no column 'text_colum' to filter on"),
    ("r.tsv", "text\tlabel\nok\t1\n", "[negative=1]", "give both negative=... and positive=..."),
    ("s.txt", "Hallo Welt\n", "[lang=klingon]", "lang='klingon' is not a language spaCy knows"),
]


@pytest.mark.parametrize("name, content, options, message", BAD_FILES)
def test_a_bad_user_file_is_named_with_its_line(capsys, tmp_path, name, content, options, message):
    (tmp_path / name).write_text(content)
    err = cli_error(capsys, ["diagnose", f"{tmp_path / name}{options}", "sentiment:yelp:all", "--model", "none"])
    assert message in err[0], err[0]


def test_a_saved_dataset_dict_asks_for_a_split(capsys, tmp_path):
    import datasets

    part = datasets.Dataset.from_dict({"text": ["ok"], "label": [1]})
    datasets.DatasetDict({"train": part, "test": part}).save_to_disk(str(tmp_path / "saved"))
    err = cli_error(capsys, ["diagnose", str(tmp_path / "saved"), "sentiment:yelp:all", "--model", "none"])
    assert err == [E + f"{tmp_path / 'saved'}: a DatasetDict; pick a split with [split=...]: it has train, test"]


def test_sentences_given_to_a_tagger_recipe(capsys, tmp_path):
    (tmp_path / "r.tsv").write_text("text\tlabel\nok\t1\n")
    argv = [*POS, f"output_dir={tmp_path}/out", f"train={tmp_path}/r.tsv", "eval=[]", "train_limit=0"]
    err = stopped(capsys, recipe_main("pos_en_de"), argv, "pos")
    assert err[0].startswith(f"pos: error: {tmp_path}/r.tsv: labelled sentences (text, label), not words to tag")


def test_a_missing_corpus_names_the_file_the_folders_and_the_url(capsys, tmp_path, monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("XDOMAIN_NLP_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDOMAIN_NLP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDOMAIN_NLP_UD_BASE_URL", f"http://127.0.0.1:{port}")
    err = cli_error(capsys, ["diagnose", "ud:en_pud:test", "ud:en_pud:test", "--model", "none"])
    assert err[0].startswith(E + "ud:en_pud test: no ud/UD_English-PUD/en_pud-ud-test.conllu; searched")
    assert f"{tmp_path / 'empty'}, {tmp_path / 'cache' / 'data'}" in err[0]
    assert f"could not download http://127.0.0.1:{port}/UD_English-PUD/r2.18/en_pud-ud-test.conllu" in err[0]


def test_corpora_lists_every_corpus_and_marks_a_bad_file(capsys, tmp_path, monkeypatch):
    import shutil

    from xdomain_nlp.data import corpus_path

    good = corpus_path("ud:en_pud", "test")
    bad = tmp_path / "data" / "ud/UD_English-PUD/en_pud-ud-test.conllu"
    bad.parent.mkdir(parents=True)
    shutil.copy(good, bad)
    with bad.open("a") as handle:
        handle.write("\n")
    monkeypatch.setenv("XDOMAIN_NLP_DATA", str(tmp_path / "data"))
    assert cli(["corpora"]) == 1
    captured = capsys.readouterr()
    assert "  test: BAD: " in captured.out and "checksum mismatch" in captured.out
    assert captured.out.count("\n  ") >= 20 and "sentiment:blitzer_kitchen" in captured.out  # the listing goes on
    assert "1 file(s) do not match their pinned checksum" in captured.err


def test_a_hub_dataset_offline_and_not_cached_fails_in_seconds(capsys, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    err = cli_error(capsys, ["diagnose", "hf:someone/nothing:train", "sentiment:yelp:all", "--model", "none"])
    assert err == [
        E + "hf:someone/nothing:train: not in the datasets cache and HF_HUB_OFFLINE is set; "
        "load it once where the Hub is reachable, or save_to_disk it and pass the folder"
    ]


def test_a_model_hub_id_neither_cached_nor_reachable_is_named(capsys, monkeypatch):
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on: the Hub is unreachable
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    err = cli_error(capsys, ["tag", "someone/not-cached-tagger", "ud:de_gsd:test"])
    assert err[0].startswith(E + f"someone/not-cached-tagger: not in the Hugging Face cache and the Hub at "
                             f"http://127.0.0.1:{port} cannot be reached")  # fmt: skip
    assert err[0].endswith("download it once where the Hub is reachable, or pass a local model directory")


def test_a_model_folder_without_its_tokenizer_is_named(capsys, tiny_tagger, tmp_path):
    import shutil

    copy = shutil.copytree(tiny_tagger, tmp_path / "tagger")
    (copy / "tokenizer.json").unlink()
    err = cli_error(capsys, ["tag", str(copy), "ud:de_gsd:test"])
    assert err == [
        E + f"{copy}: no tokenizer.json, nor tokenizer files it could be built from; copy the whole model folder "
        "again, or save its tokenizer there (tokenizer.save_pretrained)"
    ]


def test_push_dry_run_onto_a_file(capsys, tiny_tagger, tmp_path):
    (tmp_path / "card").write_text("already here")
    err = cli_error(capsys, ["push", str(tiny_tagger), "me/pos", "--dry-run", str(tmp_path / "card")])
    assert err == [E + f"{tmp_path / 'card'}: a file is there; --dry-run writes a folder (give a new or empty one)"]


def test_only_the_packages_errors_and_the_file_systems_become_one_line(capsys, tmp_path):
    from xdomain_nlp.errors import InputError

    def fails_with(error):
        def main(argv):
            raise error

        return main

    assert stopped(capsys, fails_with(InputError("train_limit: must be positive")), [], "x") == [
        "x: error: train_limit: must be positive"
    ]
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Käse".encode("latin-1"))
    assert stopped(capsys, lambda argv: latin.read_text(encoding="utf-8"), [], "x")[0].startswith(
        "x: error: 'utf-8' codec can't decode byte 0xe4"
    )
    with pytest.raises(ValueError, match="a bug deep inside"):  # not the user's: the traceback stays
        run_for_people(fails_with(ValueError("a bug deep inside")), "x", [])
    with pytest.raises(KeyError):
        run_for_people(fails_with(KeyError("weights")), "x", [])


def test_the_package_raises_no_bare_value_or_key_error():
    """A user-facing error is an `XDomainError` subclass (`InputError` is a ValueError too), so that
    the catcher can tell it from a bug."""
    import ast

    bare = []
    for path in [*sorted((REPO / "xdomain_nlp").rglob("*.py")), *sorted((REPO / "recipes").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                if node.exc.func.id in ("ValueError", "KeyError"):
                    bare.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert bare == []
