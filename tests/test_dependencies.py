"""Every third-party module the package imports comes from a distribution pyproject.toml declares."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib

from conftest import REPO


def imported_top_level_modules() -> dict[str, str]:
    """Top-level module -> the first file importing it, over the whole package (function-level imports too)."""
    found: dict[str, str] = {}
    for path in sorted((REPO / "xdomain_nlp").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(REPO)))
    return found


def declared_distributions() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"]) + list(project["optional-dependencies"]["embedded"])
    return {re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in declared}


def test_every_imported_distribution_is_declared():
    providers = importlib.metadata.packages_distributions()
    declared = declared_distributions()
    missing = {}
    for module, where in imported_top_level_modules().items():
        if module in sys.stdlib_module_names or module == "xdomain_nlp":
            continue
        distributions = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        assert distributions, f"{module} (imported in {where}) is not installed"
        if not distributions & declared:
            missing[module] = (where, sorted(distributions))
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
