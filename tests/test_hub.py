"""Publishing to the Hub, for real over HTTP, against a loopback server that speaks its API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hub_server import TOKEN, start_hub

from xdomain_nlp.hub import HubPushError, push_to_hub, stage_folder

REPO_ID = "xdomain-test/pos-en-de"


@pytest.fixture()
def hub():
    server, state, url = start_hub()
    yield state, url
    server.shutdown()


def front_matter(readme: str) -> dict:
    return yaml.safe_load(readme.split("---")[1])


def test_dry_run_writes_the_folder_with_a_card_from_the_evaluation_json(small_tagger, tmp_path):
    out = stage_folder(small_tagger, tmp_path / "upload", REPO_ID, local_paths="redact")
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    for expected in [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "xdomain.json",
        "training_config.yaml",
        "tag_sets/upos.json",
        "data_cards/ud_en_ewt.md",
        "data_cards/ud_de_gsd.md",
    ]:
        assert expected in names
    card = front_matter((out / "README.md").read_text())
    metrics = json.loads((small_tagger.parent / "metrics.json").read_text())["results"]
    (result,) = card["model-index"][0]["results"]
    assert result["dataset"]["config"] == "de_gsd" and result["dataset"]["split"] == "test"
    assert result["metrics"][0]["value"] == round(metrics["ud:de_gsd:test"]["accuracy"], 2)
    assert card["language"] == ["de", "en"] and "base_model" not in card  # trained on a local encoder
    assert yaml.safe_load((out / "training_config.yaml").read_text())["train_limit"] == 192
    assert json.loads((out / "tag_sets/upos.json").read_text())["tags"][0] == "ADJ"
    with pytest.raises(HubPushError, match="not empty"):
        stage_folder(small_tagger, out, REPO_ID, local_paths="redact")


def test_the_spacy_wheel_travels_in_its_own_folder(small_tagger, tmp_path):
    wheel = tmp_path / "de_pos_tagger-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK\x03\x04 stand-in bytes: the folder copies whatever the wheel holds")
    out = stage_folder(small_tagger, tmp_path / "upload", REPO_ID, spacy_wheel=wheel, local_paths="redact")
    assert (out / "spacy" / wheel.name).read_bytes() == wheel.read_bytes()
    with pytest.raises(HubPushError, match="not a wheel file"):
        stage_folder(
            small_tagger, tmp_path / "other", REPO_ID, spacy_wheel=tmp_path / "missing.whl", local_paths="redact"
        )


def test_cli_push_uploads_and_the_model_loads_back_from_a_snapshot(small_tagger, hub, tmp_path):
    state, url = hub
    env = {**os.environ, "HF_ENDPOINT": url, "HF_TOKEN": TOKEN, "HF_HOME": str(tmp_path / "hf")}
    cli = [sys.executable, "-m", "xdomain_nlp.cli", "push", str(small_tagger), REPO_ID, "--local-paths", "redact"]
    done = subprocess.run(cli, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"{url}/{REPO_ID}/commit/" in done.stdout
    files = state.repos[REPO_ID]
    assert files["model.safetensors"] == (small_tagger / "model.safetensors").read_bytes()
    assert "model-index" in state.cards[-1]  # the card passed the Hub's YAML check
    card = front_matter(files["README.md"].decode())
    assert card["model-index"][0]["results"][0]["metrics"][0]["type"] == "accuracy"

    # Back down through huggingface_hub's own snapshot download, into transformers and the package.
    script = (
        "import json, sys\n"
        "from huggingface_hub import snapshot_download\n"
        "from transformers import AutoModelForTokenClassification\n"
        "from xdomain_nlp.tagging import load_tagger\n"
        f"path = snapshot_download({REPO_ID!r})\n"
        "hf = AutoModelForTokenClassification.from_pretrained(path)\n"
        f"tagger, tok, meta = load_tagger({REPO_ID!r})\n"
        "print(json.dumps([hf.config.id2label[0], tagger.labels[:2], sorted(meta)]))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    first, labels, meta_keys = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert first == "ADJ" and labels == ["ADJ", "ADP"] and "config" in meta_keys
    assert any(r.startswith("GET /xdomain-test/pos-en-de/resolve/") for r in state.requests)


def test_a_downloaded_model_loads_with_the_hub_gone_and_an_absent_one_is_named(small_tagger, hub, tmp_path):
    state, url = hub
    env = {**os.environ, "HF_ENDPOINT": url, "HF_TOKEN": TOKEN, "HF_HOME": str(tmp_path / "hf")}
    repo = "xdomain-test/offline-later"
    cli = [sys.executable, "-m", "xdomain_nlp.cli"]
    pushed = subprocess.run([*cli, "push", str(small_tagger), repo, "--local-paths", "redact"], env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    script = f"from xdomain_nlp import load; print(load({repo!r}).predict('Das Essen war lecker .')['tags'])"
    online = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert online.returncode == 0, online.stderr
    with socket.socket() as sock:  # then the Hub goes away: the cache answers, nothing is asked
        sock.bind(("127.0.0.1", 0))
        gone = {**env, "HF_ENDPOINT": f"http://127.0.0.1:{sock.getsockname()[1]}"}
    offline = subprocess.run([sys.executable, "-c", script], env=gone, capture_output=True, text=True)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout == online.stdout and online.stdout.count(",") == 4
    absent = subprocess.run([*cli, "tag", "xdomain-test/never-pushed", "ud:de_gsd:test"], env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert absent.returncode == 2 and absent.stderr.strip().splitlines() == [
        "xdomain-nlp: error: xdomain-test/never-pushed: no such model on the Hub (or a private one: log in with "
        "hf auth login)"
    ]


def test_push_errors_name_the_problem(small_tagger, hub, tmp_path, monkeypatch):
    state, url = hub
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no saved login either
    with pytest.raises(HubPushError, match="no Hugging Face token"):
        push_to_hub(small_tagger, REPO_ID, endpoint=url)
    with pytest.raises(HubPushError, match="bad repo id 'no spaces allowed/x'"):
        push_to_hub(small_tagger, "no spaces allowed/x", token=TOKEN, endpoint=url)
    with pytest.raises(HubPushError, match="namespace/name"):
        push_to_hub(small_tagger, "just-a-name", token=TOKEN, endpoint=url)
    with pytest.raises(HubPushError, match="refused the token"):
        push_to_hub(small_tagger, REPO_ID, token="hf_wrong", endpoint=url, local_paths="redact")
    closed = start_hub()
    closed[0].shutdown()
    closed[0].server_close()
    with pytest.raises(HubPushError, match=r"connection to the Hub at http://127\.0\.0\.1.* failed"):
        push_to_hub(small_tagger, REPO_ID, token=TOKEN, endpoint=closed[2], local_paths="redact")
    with pytest.raises(HubPushError, match="no xdomain.json"):
        push_to_hub(tmp_path, REPO_ID, token=TOKEN, endpoint=url)
    assert not any(state.repos.get(REPO_ID, {}))  # nothing was committed by any of these


def test_an_interrupted_push_commits_nothing_and_can_be_run_again(small_tagger, hub):
    state, url = hub
    state.drop_next_commits = 6  # the connection drops during the commit, and during the client's 5 retries
    with pytest.raises(HubPushError, match="nothing was committed, run again"):
        push_to_hub(small_tagger, REPO_ID, token=TOKEN, endpoint=url, local_paths="redact")
    assert state.repos[REPO_ID] == {}
    state.drop_next_commits = 0
    push_to_hub(small_tagger, REPO_ID, token=TOKEN, endpoint=url, local_paths="redact")
    from xdomain_nlp.hub.local_paths import redacted

    published = json.loads(state.repos[REPO_ID]["xdomain.json"])
    assert published == redacted(json.loads((small_tagger / "xdomain.json").read_text()))  # the paths redacted
    assert len(state.commits[REPO_ID]) == 1


def test_evaluations_include_the_convention_head(tmp_path):
    from xdomain_nlp.hub.card import read_evaluations

    metrics = tmp_path / "metrics.json"
    test = {"ud:de_gsd:test": {"accuracy": 89.61, "words": 16499}}
    convention = {"name": "ud_de", "results": {"ud:de_gsd:test": {"accuracy": 90.44, "words": 16499}}}
    metrics.write_text(json.dumps({"config": {}, "results": test, "convention": convention}))
    found = [(e.tag_set, e.dataset, e.accuracy) for e in read_evaluations({"tag_set": "upos"}, metrics)]
    assert found == [("upos", "ud:de_gsd:test", 89.61), ("ud_de", "ud:de_gsd:test", 90.44)]
    meta = {
        "tag_set": "upos",
        "metrics": {"ud:en_ewt:test": 96.72},
        "metrics_by_tag_set": {"ud_de": {"ud:de_gsd:test": 90.44}},
    }
    assert [(e.tag_set, e.accuracy) for e in read_evaluations(meta, None)] == [("upos", 96.72), ("ud_de", 90.44)]
    # a self-training run: its scores after adapting, of the convention head it trained through
    selftrain = {
        "config": {"convention": "ud_de"},
        "before": {"ud:de_gsd:test": 92.2},
        "after": {"ud:de_gsd:test": 92.38},
    }
    metrics.write_text(json.dumps(selftrain))
    found = [(e.tag_set, e.dataset, e.accuracy) for e in read_evaluations({"tag_set": "upos"}, metrics)]
    assert found == [("ud_de", "ud:de_gsd:test", 92.38)]
    selftrain["config"]["convention"] = ""
    metrics.write_text(json.dumps(selftrain))
    assert [e.tag_set for e in read_evaluations({"tag_set": "upos"}, metrics)] == ["upos"]
    metrics.write_text(json.dumps({"results": test, "convention": {"name": "ud_de", "results": {"x": {}}}}))
    with pytest.raises(ValueError, match=r"convention.results\['x'\] has no 'accuracy'"):
        read_evaluations({}, metrics)


def test_a_parser_is_published_with_its_scores_and_loads_back(overfit_parser, hub, tmp_path):
    """The parser's card says UAS/LAS and that they come from 16 sentences; the Hub copy parses alike."""
    state, url = hub
    model = overfit_parser[0]
    meta = json.loads((model / "xdomain.json").read_text())
    out = stage_folder(model, tmp_path / "upload", "me/parser-ewt", local_paths="redact")
    assert (out / "parser_head.safetensors").is_file() and not (out / "tag_sets").exists()
    readme = (out / "README.md").read_text()
    card = front_matter(readme)
    values = {m["type"]: m["value"] for r in card["model-index"][0]["results"] for m in r["metrics"]}
    assert values == {"uas": meta["metrics"]["ud:en_ewt:train uas"], "las": meta["metrics"]["ud:en_ewt:train las"]}
    assert "These scores are on 16 sentences of each evaluation set" in readme and "(subset)" in readme
    with pytest.raises(HubPushError, match="--metrics is read for taggers"):  # never silently ignored
        stage_folder(
            model, tmp_path / "other", "me/parser-ewt", metrics_file=model.parent / "metrics.json", local_paths="redact"
        )

    push_to_hub(model, "me/parser-ewt", token=TOKEN, endpoint=url, local_paths="redact")
    env = {**os.environ, "HF_ENDPOINT": url, "HF_HOME": str(tmp_path / "hf")}
    words = [["The", "soup", "was", "good", "."], ["I", "liked", "it", "."]]
    code = f"import json, xdomain_nlp; print(json.dumps(xdomain_nlp.load('me/parser-ewt').predict({words!r})))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    import xdomain_nlp

    assert json.loads(done.stdout.strip().splitlines()[-1]) == xdomain_nlp.load(model).predict(words)


def test_saved_configs_hold_no_path_of_this_machine_and_push_guards_older_folders(small_tagger, tmp_path):
    """A run records its paths relative to the file that names them; a folder that still names a local
    path (written before, or edited by hand) is never published unasked."""
    import shutil

    from xdomain_nlp.hub.local_paths import local_paths
    from xdomain_nlp.modeldir import read_model_meta

    raw = json.loads((small_tagger / "xdomain.json").read_text())
    assert raw["config"]["output_dir"] == ".." and local_paths(raw) == []  # output_dir was given absolute
    assert json.loads((small_tagger.parent / "metrics.json").read_text())["config"]["output_dir"] == "."
    assert read_model_meta(small_tagger)["config"]["output_dir"] == str(small_tagger.parent)  # read back in place
    assert stage_folder(small_tagger, tmp_path / "plain", REPO_ID).is_dir()  # nothing to refuse

    older = shutil.copytree(small_tagger, tmp_path / "older")
    local = str(small_tagger.parent)
    (older / "xdomain.json").write_text(json.dumps({**raw, "config": {**raw["config"], "output_dir": local}}))
    with pytest.raises(HubPushError, match=rf"names paths of this machine, which would be public: .*{local}"):
        stage_folder(older, tmp_path / "refused", REPO_ID)
    assert not (tmp_path / "refused").exists() or not any((tmp_path / "refused").iterdir())
    out = stage_folder(older, tmp_path / "redacted", REPO_ID, local_paths="redact")
    for name in ("xdomain.json", "training_config.yaml", "README.md"):
        text = (out / name).read_text()
        assert str(tmp_path.parent) not in text and local not in text, name
    published = json.loads((out / "xdomain.json").read_text())["config"]
    assert published["output_dir"] == "<local>/" + Path(local).name
    assert published["train"] == raw["config"]["train"]  # corpus names are not paths: kept as given
    kept = stage_folder(older, tmp_path / "kept", REPO_ID, local_paths="keep")
    assert json.loads((kept / "xdomain.json").read_text())["config"]["output_dir"] == local


def test_local_paths_are_found_where_they_hide():
    from xdomain_nlp.hub.local_paths import local_paths, redacted

    config = {
        "output_dir": "runs/pos",  # relative: the run's own name, nothing of the machine
        "train": ["ud:en_ewt:train", "/data/ana/reviews.csv[text_column=review]"],
        "model": "~/models/e5",
        "eval": {"windows": "C:\\\\Users\\\\ana\\\\gsd.conllu", "url": "https://example.org/x"},
    }
    assert local_paths(config) == [
        ("train[1]", "/data/ana/reviews.csv[text_column=review]"),
        ("model", "~/models/e5"),
        ("eval.windows", "C:\\\\Users\\\\ana\\\\gsd.conllu"),
    ]
    clean = redacted(config)
    assert clean["train"] == ["ud:en_ewt:train", "<local>/reviews.csv[text_column=review]"]
    assert clean["model"] == "<local>/e5" and clean["eval"]["windows"] == "<local>/gsd.conllu"
    assert clean["output_dir"] == "runs/pos" and local_paths(clean) == []
