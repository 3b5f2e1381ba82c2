"""The recipes that ship with the package: listed, copied out for editing, and run by name.

The repository's ``recipes/`` folder is the package ``xdomain_nlp.recipes`` in an installed wheel
(one copy of the code). A recipe is named by its config: ``pos_en_de`` runs ``pos_en_de.py`` with
``configs/pos_en_de.yaml``, ``custom_tagset_stts`` runs ``custom_tagset.py`` with
``configs/custom_tagset_stts.yaml``; a script's own name picks its only config.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xdomain_nlp.errors import InputError, UnknownNameError

PACKAGE = "xdomain_nlp.recipes"


@dataclass(frozen=True)
class Recipe:
    name: str  # the config's name: what `xdomain-nlp train` takes
    script: Path
    config: Path
    summary: str  # the config's first comment line


def recipes_dir() -> Path:
    """Where the recipes are: the installed package, or the repository's folder beside this one."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    beside = Path(__file__).resolve().parents[1] / "recipes"
    if beside.is_dir():
        return beside
    raise FileNotFoundError(f"no recipes: {PACKAGE} is not installed (reinstall xdomain-nlp)")


def catalog() -> list[Recipe]:
    """Every shipped config with the script it runs, by name."""
    folder = recipes_dir()
    scripts = sorted((p for p in folder.glob("*.py") if p.stem != "__init__"), key=lambda p: -len(p.stem))
    found = []
    for config in sorted((folder / "configs").glob("*.yaml")):
        script = next((s for s in scripts if config.stem == s.stem or config.stem.startswith(s.stem + "_")), None)
        if script is None:
            raise InputError(f"{config}: no recipe script whose name starts its name")
        first = next((line for line in config.read_text(encoding="utf-8").splitlines() if line.startswith("#")), "#")
        found.append(Recipe(config.stem, script, config, first.lstrip("# ").strip()))
    return found


def find(name: str) -> Recipe:
    """The recipe ``name`` (a config's name, or a script's name that has one config)."""
    recipes = catalog()
    exact = [r for r in recipes if r.name == name]
    by_script = [r for r in recipes if r.script.stem == name]
    if exact:
        return exact[0]
    if len(by_script) == 1:
        return by_script[0]
    if by_script:
        names = ", ".join(r.name for r in by_script)
        raise UnknownNameError(f"{name} has several configs: {names}; name one")
    raise UnknownNameError(f"no recipe {name!r}; xdomain-nlp recipes lists them: {', '.join(r.name for r in recipes)}")


def copy_out(name: str, dest: str | Path = ".") -> list[Path]:
    """The recipe's script and config copied into ``dest`` for editing; an existing file is never replaced."""
    recipe, dest = find(name), Path(dest)
    targets = [(recipe.script, dest / recipe.script.name), (recipe.config, dest / "configs" / recipe.config.name)]
    there = [str(t) for _, t in targets if t.exists()]
    if there:
        raise InputError(f"{', '.join(there)}: already there; copy into another folder (nothing was copied)")
    for source, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return [t for _, t in targets]


def run(name: str, overrides: list[str], config: str | Path | None = None) -> Any:
    """Run the recipe ``name`` in this process with its shipped config (or ``config``) and overrides."""
    import importlib
    import runpy

    recipe = find(name)
    argv = ["--config", str(config or recipe.config), *overrides]
    if importlib.util.find_spec(PACKAGE) is None:  # a source tree not installed: the script itself
        return runpy.run_path(str(recipe.script), run_name=f"recipe_{recipe.script.stem}")["main"](argv)
    return importlib.import_module(f"{PACKAGE}.{recipe.script.stem}").main(argv)
