"""Recipe configs: one typed dataclass per recipe, filled from its YAML and ``key=value`` overrides.

Everything wrong with a config is reported at once, before any model or corpus is loaded:
unknown keys, wrong types, values out of range or not among the choices, corpus specs that do
not resolve, and each recipe's own cross-setting checks (its ``check`` method).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from xdomain_nlp.data import check_corpus_spec
from xdomain_nlp.errors import InputError

C = TypeVar("C", bound="RecipeConfig")


class ConfigError(InputError):
    """One or more settings are wrong; the message lists every problem at once."""


def setting(
    default: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    choices: Sequence[Any] | None = None,
    corpus: bool = False,
) -> Any:
    """A config field with its checks: bounds (inclusive ``minimum``/``maximum``, strict
    ``above``/``below``), allowed ``choices`` (each item of a list), ``corpus`` specs to resolve."""
    meta = {"minimum": minimum, "maximum": maximum, "above": above, "below": below, "choices": choices}
    meta["corpus"] = corpus
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


RUNS = "${runs}"  # in a path setting: the root of every run folder (`runs`), e.g. ${runs}/pos_en_de/model


@dataclasses.dataclass
class RecipeConfig:
    """Base of every recipe's config; subclasses list their settings with `setting`. ``runs`` is the
    folder that ``${runs}`` stands for in path settings (``output_dir: ${runs}/pos_en_de``, another
    recipe's ``source_model: ${runs}/pos_en_de/model``): ``runs=/data/exp`` moves them all at once."""

    runs: str = "runs"

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # ${runs} in a path setting (default, YAML or override)
            value = getattr(self, field.name)
            if isinstance(value, str) and RUNS in value:
                setattr(self, field.name, value.replace(RUNS, self.runs))
            elif isinstance(value, list) and any(isinstance(v, str) and RUNS in v for v in value):
                setattr(self, field.name, [v.replace(RUNS, self.runs) if isinstance(v, str) else v for v in value])

    def check(self) -> list[str]:
        """Problems that involve several settings (override in a recipe's config)."""
        return []

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __getitem__(self, key: str) -> Any:  # read access by name, for code that formats settings
        return getattr(self, key)


def load_config(schema: type[C], path: str | Path | None = None, overrides: Sequence[str] = ()) -> C:
    """The schema's defaults, then the YAML file, then ``key=value`` overrides (values parsed as YAML)."""
    fields = {f.name: f for f in dataclasses.fields(schema)}
    hints = typing.get_type_hints(schema)
    values: dict[str, Any] = {}
    problems: list[str] = []
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML ({error})") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of settings, got {type(loaded).__name__}")
        for key, value in loaded.items():
            if key not in fields:
                problems.append(f"{path}: unknown setting {key!r}{_did_you_mean(key, fields)}")
            values[key] = value
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            problems.append(f"override {item!r} is not key=value")
            continue
        if key not in fields:
            problems.append(f"override {key!r}: unknown setting{_did_you_mean(key, fields)}")
        try:
            values[key] = yaml.safe_load(raw)
        except yaml.YAMLError:
            values[key] = raw
    for key, value in values.items():  # YAML 1.1 reads a bare no/yes as a boolean: `mixed_precision: no`
        if isinstance(value, bool) and key in fields and hints[key] is str:
            values[key] = "no" if not value else "yes"
    kwargs = {}
    for name, value in values.items():
        if name not in fields:
            continue
        value, problem = _coerce(value, hints[name])
        if problem:
            problems.append(f"setting {name!r} = {values[name]!r}: {problem}")
        else:
            kwargs[name] = value
    cfg = schema(**kwargs)  # settings of the wrong type keep their default for the checks below
    for name, field in fields.items():
        problems += _field_problems(name, getattr(cfg, name), field.metadata)
    problems += cfg.check()
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in the {schema.__name__}:\n  " + "\n  ".join(problems))
    return cfg


def parse_recipe_args(description: str | None, schema: type[C], argv: Sequence[str] | None = None) -> C:
    """A recipe's command line: ``--config FILE`` and ``key=value`` overrides, checked by `load_config`."""
    parser = argparse.ArgumentParser(description=(description or "").split("\n")[0])
    parser.add_argument("--config", help="YAML config (see recipes/configs/)")
    parser.add_argument("overrides", nargs="*", help="key=value settings on top of the config")
    args = parser.parse_args(argv)
    return load_config(schema, args.config, args.overrides)


def _did_you_mean(key: str, fields: dict) -> str:
    import difflib

    close = difflib.get_close_matches(key, fields, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _coerce(value: Any, hint: Any) -> tuple[Any, str | None]:
    """``value`` as the annotated type, or a problem. A list setting also takes a single item."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None, None
        problems = []
        for inner in [a for a in args if a is not type(None)]:  # the first type that takes the value
            coerced, problem = _coerce(value, inner)
            if problem is None:
                return coerced, None
            problems.append(problem)
        return None, " or ".join(problems)
    if origin is list:
        items = value if isinstance(value, list) else [value]
        out = []
        for item in items:
            item, problem = _coerce(item, args[0])
            if problem:
                return None, f"expected a list of {args[0].__name__}: {problem}"
            out.append(item)
        return out, None
    if hint is bool:
        return (value, None) if isinstance(value, bool) else (None, "expected true or false")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value, None
        return None, "expected a whole number"
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                return None, "expected a number"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value), None
        return None, "expected a number"
    if hint is str:
        return (value, None) if isinstance(value, str) else (None, "expected a string")
    return value, None


def _field_problems(name: str, value: Any, meta: typing.Mapping[str, Any]) -> list[str]:
    problems = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, (int, float)):
            for key, ok, words in (
                ("minimum", lambda v, b: v >= b, "at least"),
                ("maximum", lambda v, b: v <= b, "at most"),
                ("above", lambda v, b: v > b, "above"),
                ("below", lambda v, b: v < b, "below"),
            ):
                bound = meta.get(key)
                if bound is not None and not ok(item, bound):
                    problems.append(f"setting {name!r} = {item!r}: must be {words} {bound}")
        if meta.get("choices") is not None and item not in meta["choices"]:
            problems.append(f"setting {name!r} = {item!r}: choose one of {', '.join(map(str, meta['choices']))}")
        if meta.get("corpus") and isinstance(item, str) and item:
            problem = check_corpus_spec(item)
            if problem:
                problems.append(f"setting {name!r}: {problem}")
    return problems
