"""Where models run: one helper decides, nothing else writes a CPU device or an autocast; and a
recipe imports only what it uses (no Hub client, spaCy or other recipes' models)."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from xdomain_nlp.devices import CPU, autocast, inference_batch_tokens, model_device, to_device

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "xdomain_nlp"
HELPER = PACKAGE / "devices.py"
# A device written into code: an autocast, a host copy, or "cpu" given as a device.
HARD_CODED = [
    (re.compile(r"torch\.autocast\("), "an autocast outside xdomain_nlp/devices.py"),
    (re.compile(r"\.cpu\(\)"), ".cpu() (use .to(CPU) where the host is meant)"),
    (re.compile(r"torch\.device\(\s*[\"']cpu"), "torch.device('cpu')"),
    (re.compile(r"\.to\(\s*[\"']cpu"), ".to('cpu')"),
    (re.compile(r"device[^=\n(]*=\s*[\"']cpu[\"']"), "device = 'cpu'"),
]
MEANT = "the CPU is meant"  # a comment that says why the CPU is written there


def code_lines(path: Path) -> list[tuple[int, str]]:
    """Lines of code with their comments, docstrings left out."""
    text = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.update(range(value.lineno, value.end_lineno + 1))
    return [(i, line) for i, line in enumerate(text.splitlines(), 1) if i not in docstrings]


def test_no_model_code_writes_a_cpu_device_or_an_autocast():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == HELPER:
            continue
        for number, line in code_lines(path):
            for pattern, what in HARD_CODED:
                if pattern.search(line.split("#")[0]) and MEANT not in line:
                    found.append(f"{path.relative_to(REPO)}:{number}: {what}: {line.strip()}")
    assert not found, "devices belong to xdomain_nlp/devices.py:\n" + "\n".join(found)


def test_the_scan_finds_what_it_looks_for(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text('"""doc: torch.autocast("cpu") in prose is fine."""\nwith torch.autocast("cpu"):\n    x.cpu()\n')
    lines = [line for _, line in code_lines(planted)]
    assert [bool(p.search(line)) for line in lines for p, _ in HARD_CODED[:2]] == [True, False, False, True]


def test_the_helper_reads_the_model_and_moves_batches():
    model = torch.nn.Linear(3, 2)
    assert model_device(model) == CPU and model_device(torch.nn.ReLU()) == CPU
    batch = to_device({"x": torch.ones(2, 3), "lengths": [1, 2]}, model)
    assert batch["x"].device == CPU and batch["lengths"] == [1, 2]
    with autocast(model, torch.bfloat16):
        assert model(batch["x"]).dtype == torch.bfloat16
    with torch.autocast("cpu", dtype=torch.bfloat16), autocast(model, None):  # fp32 even inside a caller's autocast
        assert model(batch["x"]).dtype == torch.float32
    assert inference_batch_tokens(model) == 8192 and inference_batch_tokens("cuda") == 65536


@pytest.mark.parametrize(
    "recipe, not_loaded",
    [
        ("pos_en_de", ["xdomain_nlp.hub.push", "xdomain_nlp.relational.biaffine", "spacy", "httpx2._api_unused"]),
        ("parser_ewt", ["xdomain_nlp.hub.push", "xdomain_nlp.relational.classifier", "spacy"]),
        ("sentiment_food_to_movie", ["xdomain_nlp.hub.push", "xdomain_nlp.hub.card"]),
    ],
)
def test_a_recipe_imports_only_what_it_uses(recipe, not_loaded):
    code = (
        "import importlib.util, sys; "
        f"spec = importlib.util.spec_from_file_location('r', {str(REPO / 'recipes' / (recipe + '.py'))!r}); "
        "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
        f"print(sorted(m for m in {not_loaded!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_package_module_imports_the_hub_http_client_at_import():
    """The Hub client's HTTP library is imported where a push needs it, not at a module's top."""
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(n.split(".")[0] in ("httpx", "httpx2") for n in names), path
