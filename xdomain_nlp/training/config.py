"""Recipe configs: YAML files with ``key=value`` overrides, checked against the recipe's defaults."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """One or more settings are wrong; the message lists every problem at once."""


def load_config(path: str | Path | None, overrides: Sequence[str], defaults: dict[str, Any]) -> dict[str, Any]:
    """Defaults, then the YAML file, then ``key=value`` overrides (values parsed as YAML)."""
    cfg = copy.deepcopy(defaults)
    problems = []
    if path is not None:
        loaded = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of settings, got {type(loaded).__name__}")
        for key, value in loaded.items():
            if key not in defaults:
                problems.append(f"{path}: unknown setting {key!r}")
            cfg[key] = value
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            problems.append(f"override {item!r} is not key=value")
            continue
        if key not in defaults:
            problems.append(f"override {key!r}: unknown setting")
        cfg[key] = yaml.safe_load(raw)
    for key, default in defaults.items():
        value = cfg.get(key)
        if isinstance(default, float) and isinstance(value, str):
            try:  # YAML 1.1 reads "1e-4" (no dot) as a string
                cfg[key] = value = float(value)
            except ValueError:
                pass
        if default is not None and value is not None and not _same_kind(default, value):
            problems.append(f"setting {key!r} = {value!r}: expected {type(default).__name__}")
    if problems:
        known = ", ".join(sorted(defaults))
        raise ConfigError("\n".join(problems) + f"\nknown settings: {known}")
    return cfg


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, list):  # a list setting also takes a single item
        return isinstance(value, (list, str))
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, type(default))


def parse_recipe_args(
    description: str | None, defaults: dict[str, Any], argv: Sequence[str] | None = None
) -> dict[str, Any]:
    """A recipe's command line: ``--config FILE`` and ``key=value`` overrides, checked by `load_config`."""
    import argparse

    parser = argparse.ArgumentParser(description=(description or "").split("\n")[0])
    parser.add_argument("--config", help="YAML config (see recipes/configs/)")
    parser.add_argument("overrides", nargs="*", help="key=value settings on top of the config")
    args = parser.parse_args(argv)
    return load_config(args.config, args.overrides, defaults)
