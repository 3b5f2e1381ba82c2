"""Installed, not cloned: the built wheel alone lists the recipes, trains one and tags with the result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

from conftest import REPO

CLI = (
    "import sys, xdomain_nlp\nfrom xdomain_nlp.cli import main\n"
    "print(xdomain_nlp.__file__)\nsys.exit(main(sys.argv[1:]))"
)


def test_the_wheel_alone_lists_trains_and_tags(tmp_path, small_encoder):
    source = tmp_path / "source"  # a clean copy: a stale build/ folder of the checkout must not leak in
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("xdomain_nlp", "recipes"):
        shutil.copytree(REPO / part, source / part, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(REPO / name, source / name)
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)]
    subprocess.run(build, check=True, capture_output=True)
    (wheel,) = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = ["recipes/pos_en_de.py", "recipes/configs/pos_en_de.yaml", "labelspace/projections/ud_en_stts.yaml"]
    assert {f"xdomain_nlp/{name}" for name in shipped} <= names
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True)

    elsewhere = tmp_path / "user"  # no checkout here: only the wheel's files can answer
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", CLI, *args]
        return subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True)

    listed = cli("recipes")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].startswith(str(site)) and "pos_en_de  " in listed.stdout
    run = elsewhere / "runs" / "pos"
    trained = cli(
        "train", "pos_en_de", f"model={small_encoder}", "train_limit=32", "epochs=1", "batch_size=16", "max_length=64",
        "window_overlap=16", "convention=''", "eval=[ud:de_gsd:test]", "eval_limit=8", f"output_dir={run}",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    listing = "confusion_ud_de_gsd_test.png, metrics.json, model/, reliability_ud_de_gsd_test.png, training.png"
    assert f"results in {run}: {listing}" in trained.stdout
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["results"]["ud:de_gsd:test"]["words"] > 0
    tag = "import sys, xdomain_nlp; print(xdomain_nlp.load(sys.argv[1]).predict('Das Essen war sehr lecker .')['tags'])"
    tagged = subprocess.run([sys.executable, "-c", tag, str(run / "model")], cwd=elsewhere, env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert tagged.returncode == 0, tagged.stderr[-2000:]
    assert len(eval(tagged.stdout.strip())) == 6  # one tag a word of the German sentence
