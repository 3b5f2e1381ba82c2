"""The docs pages read their numbers from benchmarks/results; none is typed into the prose."""

from __future__ import annotations

import importlib.util
import re
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
