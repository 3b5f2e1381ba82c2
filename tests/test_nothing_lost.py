"""Nothing lost, nothing executed: outputs that never destroy inputs, runs that own their folder,
checkpoints that hold no pickle the package did not write and refuse other settings."""

from __future__ import annotations

import errno
import json
import os
import pickle
import subprocess
import sys
import warnings

import pytest
import torch
from accelerate import Accelerator
from conftest import recipe_main
from test_bad_input import POS, cli_error, stopped
from torch.utils.data import DataLoader

from xdomain_nlp.data.corpora import corpus_path
from xdomain_nlp.outputs import OutputError, atomic_file, model_folder
from xdomain_nlp.training import CheckpointDir, CheckpointError, LengthGroupedBatchSampler, WeightAverager, fit
from xdomain_nlp.training.run_lock import LOCK_FILE, RunLock, RunLockError


def test_tag_with_the_input_as_output_is_refused_and_the_input_kept(capsys, tiny_tagger, tmp_path):
    corpus = tmp_path / "in.conllu"
    sentences = corpus_path("ud:de_gsd", "test").read_text(encoding="utf-8").split("\n\n")[:5]
    corpus.write_text("\n\n".join(sentences) + "\n\n", encoding="utf-8")
    before = corpus.read_bytes()
    for output in (corpus, tmp_path / "." / "in.conllu"):
        err = cli_error(capsys, ["tag", str(tiny_tagger), str(corpus), "-o", str(output)])
        assert err == [f"xdomain-nlp: error: {output}: the output (-o) is the input {corpus}; write it to another file"]
    assert corpus.read_bytes() == before


def test_a_failed_write_leaves_the_old_file_and_no_part(tmp_path):
    target = tmp_path / "tags.conllu"
    target.write_text("the old output\n")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write("half of the new one")
        raise RuntimeError("interrupted")
    assert target.read_text() == "the old output\n" and os.listdir(tmp_path) == ["tags.conllu"]
    with pytest.raises(OutputError, match=r"tags.conllu: the disk is full; nothing was written there"):
        with atomic_file(target) as handle:
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "the old output\n" and os.listdir(tmp_path) == ["tags.conllu"]
    with pytest.raises(OutputError, match=r"no/such/dir/t.conllu: No such file or directory"):
        with atomic_file(tmp_path / "no/such/dir/t.conllu"):
            pass


def test_a_folder_that_holds_no_model_is_never_replaced(capsys, tiny_tagger, tmp_path):
    mine = tmp_path / "my_notes"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    err = cli_error(capsys, ["mapping", "train", str(tiny_tagger), "stts", "--train", "ud:de_gsd:dev",
                             "--out", str(mine)])  # fmt: skip
    assert err == [f"xdomain-nlp: error: {mine}: a folder that is not empty and holds no model (xdomain.json); "
                   "give another --out"]  # fmt: skip
    assert (mine / "thesis.tex").read_text() == "years of work"


def test_a_model_folder_is_replaced_whole_or_not_at_all(tmp_path):
    out = tmp_path / "model"
    with model_folder(out) as folder:
        (folder / "xdomain.json").write_text("{}")
        (folder / "weights").write_text("first")
    with pytest.raises(RuntimeError), model_folder(out) as folder:
        (folder / "weights").write_text("second, half")
        raise RuntimeError("the save broke off")
    assert (out / "weights").read_text() == "first" and sorted(os.listdir(tmp_path)) == ["model"]
    with model_folder(out) as folder:
        (folder / "xdomain.json").write_text("{}")
        (folder / "weights").write_text("second")
    assert (out / "weights").read_text() == "second" and sorted(os.listdir(tmp_path)) == ["model"]


def test_an_output_dir_that_is_a_file_is_refused_before_anything_loads(capsys, tmp_path):
    (tmp_path / "run").write_text("a file")
    err = stopped(capsys, recipe_main("pos_en_de"), [*POS, f"output_dir={tmp_path / 'run'}"], "pos_en_de")
    said = f"output_dir = {tmp_path / 'run'}: a file, not a folder; give a folder to write the run into"
    assert err[1] == f"pos_en_de:   {said}"


def test_a_busy_output_dir_is_refused_naming_the_other_run(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = tmp_path / LOCK_FILE
        lock.write_text(json.dumps({"pid": other.pid, "host": os.uname().nodename, "started": "12:00",
                                    "command": "pos_en_de.py"}))  # fmt: skip
        with pytest.raises(RunLockError, match=rf"{tmp_path} is in use by process {other.pid} on .* since 12:00"):
            RunLock(tmp_path).acquire()
    finally:
        other.kill()
        other.wait()
    with pytest.warns(UserWarning, match=f"taking over the lock of process {other.pid}, which is gone"):
        held = RunLock(tmp_path).acquire()  # the other run died: its lock is stale
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    RunLock(tmp_path).acquire()  # a later run in this same process takes it back
    held.release()
    assert not lock.exists()
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere", "command": "x"}))
    with pytest.raises(RunLockError, match=rf"on elsewhere .*if that run is gone, remove {lock}"):
        RunLock(tmp_path).acquire()


def averaged_run(out, seed: int = 0, **kwargs):
    """A small network trained through `fit` with weight averaging and checkpoints."""
    accelerator = Accelerator(cpu=True)
    torch.manual_seed(0)
    x, y = torch.randn(64, 8), torch.randn(64)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Dropout(0.1), torch.nn.Linear(16, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sampler = LengthGroupedBatchSampler([1] * 64, 8, seed=seed, group_size=1)
    loader = DataLoader(list(range(64)), batch_sampler=sampler, generator=torch.Generator().manual_seed(0),
                        collate_fn=lambda i: {"x": x[i], "y": y[i]})  # fmt: skip
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    averager = WeightAverager(accelerator.unwrap_model(model), start_step=3)
    result = fit(
        model, optimizer, loader, lambda m, b: (m(b["x"]).squeeze(-1) - b["y"]).square().mean(),
        accelerator=accelerator, epochs=2, checkpoints=CheckpointDir(out / "ckpt", identity={"seed": seed}),
        checkpoint_every=5, averager=averager, **kwargs,
    )  # fmt: skip
    return result, torch.cat([p.detach().flatten() for p in model.parameters()])


def test_the_averager_is_checkpointed_without_pickle_and_resumes_exactly(tmp_path):
    _, straight = averaged_run(tmp_path / "straight")
    averaged_run(tmp_path / "resumed", stop_after_steps=7)
    saved = sorted(os.listdir(tmp_path / "resumed/ckpt/step_7"))
    assert "averager.safetensors" in saved and "averager.json" in saved
    assert [f for f in saved if f.endswith(".pkl")] == ["random_states_0.pkl"]  # accelerate's, read as weights only
    resumed, weights = averaged_run(tmp_path / "resumed")
    assert resumed.resumed_from.endswith("step_7") and torch.equal(weights, straight)


class Planted:
    """A pickle that would leave a file behind if anything unpickled it."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_planted_pickle_is_never_loaded(tmp_path):
    averaged_run(tmp_path, stop_after_steps=5)
    step = tmp_path / "ckpt/step_5"
    flag = tmp_path / "code_ran"
    (step / "custom_checkpoint_0.pkl").write_bytes(pickle.dumps(Planted(str(flag))))
    with pytest.warns(UserWarning, match=r"step_5 is skipped: custom_checkpoint_0.pkl is a pickle the package never "):
        result, _ = averaged_run(tmp_path)
    assert result.resumed_from is None and not flag.exists()


def test_a_checkpoint_of_other_settings_is_refused_naming_the_setting(tmp_path):
    averaged_run(tmp_path, stop_after_steps=5)
    with pytest.raises(CheckpointError, match=r"step_5 was made with other settings \(seed was 0, now 1\)"):
        averaged_run(tmp_path, seed=1)


def test_a_random_state_that_cannot_be_read_is_a_warning_that_says_what_follows(tmp_path):
    averaged_run(tmp_path, stop_after_steps=5)
    rng = tmp_path / "ckpt/step_5/random_states_0.pkl"
    size = rng.stat().st_size
    rng.write_bytes(b"\0" * size)  # the size still matches: only reading it shows the damage
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, _ = averaged_run(tmp_path)
    said = [str(w.message) for w in caught if "random state" in str(w.message)]
    assert result.resumed_from.endswith("step_5")
    assert said and "the data order is still exact" in said[0] and "dropout masks will differ" in said[0]


def test_decomposed_and_composed_text_get_the_same_tags(tiny_tagger):
    """NFD (a letter, then its combining accent) and NFC tag alike; the words come back as given."""
    import unicodedata

    import xdomain_nlp

    tagger = xdomain_nlp.load(tiny_tagger, device="cpu", precision="fp32")
    text = "Die Schüler können für die Prüfung über Nacht lernen , nicht wahr ?"
    composed = tagger.predict([unicodedata.normalize("NFC", text).split()])[0]
    decomposed_words = unicodedata.normalize("NFD", text).split()
    decomposed = tagger.predict([decomposed_words])[0]
    assert decomposed["tags"] == composed["tags"] and decomposed["probabilities"] == composed["probabilities"]
    assert decomposed["words"] == decomposed_words != composed["words"]


def test_ctrl_c_is_one_line_naming_the_newest_checkpoint(capsys, tmp_path):
    from xdomain_nlp.errors import run_for_people

    def main(argv):
        averaged_run(tmp_path, stop_after_steps=5)  # a run that saved a checkpoint, then the user pressed Ctrl-C
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as stop:
        run_for_people(main, "pos_en_de", [])
    assert stop.value.code == 130
    err = [line for line in capsys.readouterr().err.splitlines() if line and not line.startswith("train:")]
    assert err == [f"pos_en_de: interrupted; the newest checkpoint is {tmp_path / 'ckpt/step_5'}: the same command "
                   "resumes from it"]  # fmt: skip


def test_a_model_folder_of_a_later_format_is_refused_in_one_line(capsys, tiny_tagger, tmp_path):
    import shutil

    later = tmp_path / "later"
    shutil.copytree(tiny_tagger, later)
    meta = json.loads((later / "xdomain.json").read_text())
    assert meta["format"] == 1 and meta["xdomain_nlp_version"]
    (later / "xdomain.json").write_text(json.dumps({**meta, "format": 2, "xdomain_nlp_version": "9.0"}))
    err = cli_error(capsys, ["evaluate", str(later), "ud:de_gsd:test"])
    said = "model folder format 2 (written by xdomain_nlp 9.0); this xdomain_nlp reads format 1: upgrade xdomain_nlp"
    assert err == [f"xdomain-nlp: error: {later / 'xdomain.json'}: {said} (pip install -U xdomain-nlp)"]
