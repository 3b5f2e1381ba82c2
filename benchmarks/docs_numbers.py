"""Numbers in the docs pages come from benchmarks/results/*.json, never typed by hand.

A page writes ``{{ relational:sentiment/plain/sentiment:sst2:test | pm }}``: the file's name (no
``.json``) before the first colon, then keys separated by ``/``, then a format. mkdocs runs
`on_page_markdown` on every page (``hooks:`` in mkdocs.yml), so a key that is not in the JSON stops
``mkdocs build --strict`` with the page and the placeholder named; tests render every page too.

Formats: a Python format spec (``.2f`` is the default for numbers, ``+.2f``, ``,.0f``, ``.0%``);
``pm`` (``mean ± std`` of a ``{"mean", "std"}`` entry), ``pm+`` (the same, signed); ``commit`` (a
run's commit, 10 characters, ``-dirty`` kept); ``commits NAME`` (of a ``measured_at`` map: the commit
of run NAME, or of its runs one per seed, ``NAME_seed0``..., each commit once with its seeds);
``ranked`` (``{name: {mean, std}}`` by mean, each name in backticks); ``pairs`` (``{name: value}`` as
``name 88.30, ...``); ``runs`` (per-seed numbers, ``a / b / c``); ``count`` (how many entries);
``words`` and ``counts`` (the first words of a diagnosis list, the latter with their source/target
counts). A key that is a number indexes a list.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PLACEHOLDER = re.compile(r"\{\{\s*([^{}|]+?)\s*(?:\|\s*([^{}]+?)\s*)?\}\}")


class MissingResult(KeyError):
    """A placeholder names a file or key that benchmarks/results does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


@cache
def _results(name: str) -> dict[str, Any]:
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        raise MissingResult(f"no benchmarks/results/{name}.json")
    return json.loads(path.read_text())


def lookup(spec: str) -> Any:
    """The value at ``file:key/key/...`` of benchmarks/results."""
    name, _, keys = spec.partition(":")
    value: Any = _results(name.strip())
    for key in filter(None, keys.split("/")):
        if isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
            continue
        if not isinstance(value, dict) or key not in value:
            raise MissingResult(f"{name}.json has no {keys!r} (stopped at {key!r})")
        value = value[key]
    return value


def run_commits(measured_at: dict[str, str], part: str) -> dict[str, list[int]]:
    """The commits of run ``part``, or of its runs one per seed (``part_seed0``, ...), each once, with the
    seeds it measured (none for a single run): a benchmark measured in parts names every commit it reads."""
    one_or_per_seed = re.compile(rf"{re.escape(part)}(?:_seed(\d+))?")
    commits: dict[str, list[int]] = {}
    for name, commit in measured_at.items():
        if match := one_or_per_seed.fullmatch(name):
            commits.setdefault(commit, []).extend([int(match.group(1))] if match.group(1) else [])
    return commits


def short_commit(commit: str) -> str:
    """A commit as the README and the pages show it: 10 characters, ``-dirty`` kept (such a run is not clean)."""
    return commit[:10] + ("-dirty" if commit.endswith("-dirty") else "")


def _number(value: float, spec: str = ".2f") -> str:
    text = format(value, spec)
    if text.startswith("-") and not text.strip("-0.,%"):  # -0.004 rounds to zero: no sign to show
        text = ("+" if "+" in spec else "") + text[1:]
    return text.replace("-", "−")  # a typographic minus


def _pm(entry: dict[str, Any], signed: bool = False) -> str:
    spec = "+.2f" if signed else ".2f"
    return f"{_number(entry['mean'], spec)} ± {_number(entry['std'])}"


def format_value(value: Any, fmt: str | None) -> str:
    """``value`` written as ``fmt`` asks (see the module docstring)."""
    if fmt in ("pm", "pm+"):
        return _pm(value, signed=fmt == "pm+")
    if fmt == "commit":
        return short_commit(str(value))
    if fmt and fmt.startswith("commits "):
        part = fmt.removeprefix("commits ").strip()
        commits = run_commits(value, part)
        if not commits:
            raise KeyError(f"no run {part!r} in {sorted(value)}")
        seeds = {c: f" (seed{'s' * (len(s) > 1)} {', '.join(map(str, s))})" if s else "" for c, s in commits.items()}
        return ", ".join(short_commit(c) + seeds[c] for c in commits)
    if fmt == "ranked":
        ordered = sorted(value.items(), key=lambda kv: kv[1]["mean"])
        return ", ".join(f"`{name}` {_pm(entry, signed=True)}" for name, entry in ordered)
    if fmt == "runs":
        return " / ".join(_number(v) for v in value)
    if fmt == "pairs":
        return ", ".join(f"{name.replace('->', '→')} {_number(v)}" for name, v in value.items())
    if fmt == "count":
        return f"{len(value):,}"
    if fmt == "words":  # the first eight of a diagnosis list
        return ", ".join(f"`{entry['word']}`" for entry in value[:8])
    if fmt == "counts":  # the first three, with their counts on each side
        return ", ".join(f"`{e['word']}` {e['source_count']}/{e['target_count']}" for e in value[:3])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if fmt:
            raise ValueError(f"format {fmt!r} is for numbers; the value is {value!r}")
        return str(value)
    if fmt is None:
        return f"{value:,}" if isinstance(value, int) else _number(value)
    return _number(value, fmt)


def render(markdown: str, where: str = "page") -> str:
    """``markdown`` with every placeholder replaced by its value; a missing one is an error naming ``where``."""

    def replace(match: re.Match[str]) -> str:
        try:
            return format_value(lookup(match.group(1)), match.group(2))
        except (MissingResult, ValueError, KeyError, TypeError) as err:
            line = markdown.count("\n", 0, match.start()) + 1
            raise ValueError(f"{where}:{line}: {match.group(0)}: {err}") from None

    return PLACEHOLDER.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """The mkdocs hook."""
    return render(markdown, where=f"docs/{page.file.src_path}")
