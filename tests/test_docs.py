"""The docs pages read their numbers from benchmarks/results; none is typed into the prose."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("docs_numbers", REPO / "benchmarks" / "docs_numbers.py")
docs_numbers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(docs_numbers)

PAGES = sorted((REPO / "docs").glob("*.md"))
# Numbers in prose that are not results of this package, each with why it may stay.
NOT_RESULTS = {
    "relational.md": {
        "69%": "the positive share of the Food training sentences (a property of the data)",
        "0.50": "SST-2's true positive share (a property of the data)",
        "76.3": "published SCL result (Blitzer et al. 2007)",
        "90.08": "published BERT-DAAT result",
        "91.01": "published BERT-GAST result",
    },
}
NUMBER = re.compile(r"(?<![\w.])\d+\.\d+%?|(?<![\w.])\d+%")
TARGET = re.compile(r"(?:≥|>|<|≤)\s*$")


def prose(markdown: str) -> str:
    """The page without code blocks, inline code and placeholders."""
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    markdown = docs_numbers.PLACEHOLDER.sub("", markdown)
    return re.sub(r"`[^`\n]*`", "", markdown)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_renders_from_the_results(page: Path) -> None:
    rendered = docs_numbers.render(page.read_text(), where=page.name)
    assert "{{" not in rendered


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_result_is_typed_into_the_prose(page: Path) -> None:
    allowed = NOT_RESULTS.get(page.name, {})
    typed = []
    for line in prose(page.read_text()).splitlines():
        for match in NUMBER.finditer(line):
            if match.group(0) not in allowed and not TARGET.search(line[: match.start()]):
                typed.append(f"{match.group(0)} in: {line.strip()}")
    assert not typed, "write these as {{ file:key | format }} placeholders, or drop them:\n" + "\n".join(typed)


def test_placeholders_are_formatted_from_the_json() -> None:
    text = "SST-2 {{ relational:in_domain_upper_bound/sentiment:sst2:test | pm }}, UAS {{ relational:ewt_test_uas }}"
    data = docs_numbers.lookup("relational:in_domain_upper_bound/sentiment:sst2:test")
    expected = f"SST-2 {data['mean']:.2f} ± {data['std']:.2f}, UAS {docs_numbers.lookup('relational:ewt_test_uas'):.2f}"
    assert docs_numbers.render(text) == expected
    assert docs_numbers.format_value(-0.004, "+.2f") == "+0.00"
    assert docs_numbers.format_value(-0.4, "+.2f") == "−0.40"
    assert docs_numbers.format_value("abc1234567890-dirty", "commit") == "abc1234567-dirty"


def test_a_missing_result_names_the_page_line_and_key() -> None:
    text = "intro\n\nGSD {{ pos_en_de:de_gsd_test_upos }} and {{ pos_en_de:no_such_key | pm }}"
    with pytest.raises(ValueError, match=r"tag-sets\.md:3: \{\{ pos_en_de:no_such_key \| pm \}\}: .*no_such_key"):
        docs_numbers.render(text, where="tag-sets.md")
    with pytest.raises(ValueError, match="no benchmarks/results/nothing.json"):
        docs_numbers.render("{{ nothing:key }}")


spec = importlib.util.spec_from_file_location("reproduce", REPO / "benchmarks" / "reproduce.py")
reproduce = sys.modules["reproduce"] = importlib.util.module_from_spec(spec)  # its dataclasses look it up
spec.loader.exec_module(reproduce)
table_spec = importlib.util.spec_from_file_location("readme_table", REPO / "benchmarks" / "readme_table.py")
readme_table = importlib.util.module_from_spec(table_spec)
table_spec.loader.exec_module(readme_table)


def results_read_by_readme_and_docs() -> set[str]:
    read = {name for name in readme_table.ROWS}
    for page in [*PAGES, REPO / "README.md"]:
        read |= {f"{m.group(1).split(':')[0]}.json" for m in docs_numbers.PLACEHOLDER.finditer(page.read_text())}
    return read


def test_no_figure_the_readme_or_docs_show_comes_from_a_dirty_tree() -> None:
    read = results_read_by_readme_and_docs()
    assert {"label_mapping.json", "relational.json", "pos_en_de.json"} <= read
    dirty = {name: reproduce.dirty_figures(REPO / "benchmarks" / "results" / name) for name in sorted(read)}
    found = {name: sorted(d)[:3] for name, d in dirty.items() if d}
    assert not found, f"figures measured on an uncommitted tree (run benchmarks/reproduce.py): {found}"


def test_a_dirty_commit_is_found_wherever_a_results_file_keeps_one() -> None:
    result = {
        "git_commit": "abc",
        "measured_at": {"run": "def-dirty"},
        "carried_over": {"k=0 head": {"command": "x", "git_commit": "123-dirty"}},
        "genre": {"command": "y", "git_commit": "456"},
    }
    found = reproduce.commits_of(result)
    assert {k for k, v in found.items() if v.endswith("-dirty")} == {"measured_at/run", "carried_over/k=0 head"}
    assert found["genre/git_commit"] == "456"


def test_a_row_names_every_commit_of_the_runs_it_reads_once() -> None:
    data = {
        "command": "python benchmarks/relational.py",
        "measured_at": {
            "sentiment_food_to_movie_seed0": "a" * 40,
            "sentiment_food_to_movie_seed1": "a" * 40,
            "sentiment_food_to_movie_seed2": "b" * 40 + "-dirty",
            "sentiment_food_to_movie_other": "c" * 40,
        },
    }
    where = readme_table.run_where(data, "sentiment_food_to_movie", "the file's own run")
    assert where == "`python benchmarks/relational.py` (run @ aaaaaaaaaa, bbbbbbbbbb-dirty)"
    assert readme_table.run_where(data, "parser_ewt", "the file's own run") == "the file's own run"


def test_a_page_names_the_commit_of_each_seed_of_a_run_measured_in_parts() -> None:
    measured_at = {
        "sentiment_food_to_movie_seed0": "a" * 40,
        "sentiment_food_to_movie_seed1": "b" * 40,
        "sentiment_food_to_movie_seed2": "b" * 40,
        "sentiment_food_to_movie_other": "c" * 40,
        "parser_ewt": "d" * 40 + "-dirty",
    }
    fmt = docs_numbers.format_value
    assert fmt(measured_at, "commits sentiment_food_to_movie") == "aaaaaaaaaa (seed 0), bbbbbbbbbb (seeds 1, 2)"
    assert fmt(measured_at, "commits parser_ewt") == "dddddddddd-dirty"
    with pytest.raises(KeyError, match="sentiment_sst2_in_domain"):
        fmt(measured_at, "commits sentiment_sst2_in_domain")
