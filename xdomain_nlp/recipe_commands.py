"""The ``xdomain-nlp recipes`` and ``xdomain-nlp train`` commands (see `xdomain_nlp.recipe_catalog`)."""

from __future__ import annotations

import argparse


def recipes(args: argparse.Namespace) -> int:
    """``xdomain-nlp recipes [cp NAME [DIR] | path NAME]``."""
    from xdomain_nlp import recipe_catalog

    if args.action == "cp":
        for path in recipe_catalog.copy_out(args.name, args.dest):
            print(f"copied {path}")
        return 0
    if args.action == "path":
        print(recipe_catalog.find(args.name).config)
        return 0
    recipes = recipe_catalog.catalog()
    width = max(len(r.name) for r in recipes)
    for r in recipes:
        print(f"{r.name:<{width}}  {r.summary}")
    print(f"\nxdomain-nlp train NAME [key=value ...] runs one; recipes in {recipe_catalog.recipes_dir()}")
    return 0


def train(args: argparse.Namespace) -> int:
    """``xdomain-nlp train NAME [--config FILE] [key=value ...]``: the recipe in this process."""
    from xdomain_nlp import recipe_catalog

    recipe_catalog.run(args.name, args.overrides, args.config)
    return 0
