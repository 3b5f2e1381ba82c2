"""The package's layers: no import cycle, function-level imports included; recipes import only the package."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "xdomain_nlp"


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its file (``__init__`` is the package)."""
    modules = {}
    for file in PACKAGE.rglob("*.py"):
        parts = file.relative_to(REPO).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file

    def resolve(name: str) -> str:
        while name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph = {name: set() for name in modules}
    for name, file in modules.items():
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                targets = [t for t in targets if t == node.module or t in modules]
            else:
                continue
            graph[name] |= {resolve(t) for t in targets if t.startswith("xdomain_nlp")} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_no_import_cycle_between_subpackages():
    folders = {}
    for module, targets in import_graph().items():
        top = module.split(".")[1] if "." in module else module
        folders.setdefault(top, set()).update(t.split(".")[1] for t in targets if "." in t)
    for top in folders:
        folders[top].discard(top)
    for top in list(folders):
        for t in folders[top]:
            folders.setdefault(t, set())
    assert cycles(folders) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_labelspace_reads_no_tagger():
    graph = import_graph()
    below = {t for m, ts in graph.items() if m.startswith("xdomain_nlp.labelspace") for t in ts}
    assert not {t for t in below if t.startswith(("xdomain_nlp.tagging", "xdomain_nlp.heads"))}


def test_recipes_import_only_the_package():
    for path in (REPO / "recipes").glob("*.py"):
        tree = ast.parse(path.read_text())
        local = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
        assert not local, f"{path.name} imports {local}"
    for folder in ("tests", "benchmarks"):
        for path in (REPO / folder).glob("*.py"):
            if path.name == "test_layers.py":
                continue
            assert "sys.path.insert" not in path.read_text(), f"{path} puts a folder on sys.path"


def test_one_training_loop():
    """Every gradient step in the package goes through training/loop.py (single_process.py is the
    in-process stand-in for the ``accelerator.backward`` the loop calls); recipes take none of their own."""
    stepping = sorted(str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py") if ".backward(" in p.read_text())
    assert stepping == ["xdomain_nlp/training/loop.py", "xdomain_nlp/training/single_process.py"]
    assert not [p.name for p in (REPO / "recipes").glob("*.py") if ".backward(" in p.read_text()]


def test_the_cli_answers_help_and_version_without_torch():
    """``xdomain-nlp --help`` and ``--version`` import neither torch nor transformers (they take seconds)."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom xdomain_nlp.cli import build_parser\n"
        "try:\n    build_parser().parse_args(['--version'])\nexcept SystemExit:\n    pass\n"
        "build_parser().format_help()\n"
        "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'spacy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["xdomain-nlp 0.1.0", "[]"]


def test_every_option_of_every_command_says_what_it_is():
    import argparse

    from xdomain_nlp.cli import build_parser

    silent = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help and not isinstance(action, argparse._HelpAction):
                silent.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "xdomain-nlp")
    assert silent == []
