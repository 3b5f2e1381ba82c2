"""The examples in the API pages' docstrings run, on real models, and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

# Every object docs/api.md renders, with the example its docstring gives.
DOCUMENTED = [
    "xdomain_nlp.api.load",
    "xdomain_nlp.tagging.tagger.Tagger",
    "xdomain_nlp.relational.parser.Parser",
    "xdomain_nlp.classification.sentiment.SentimentClassifier",
    "xdomain_nlp.data.corpora.load_corpus",
    "xdomain_nlp.data.conllu_output.write_conllu",
    "xdomain_nlp.training.loop.fit",
    "xdomain_nlp.modeldir",
]


def documented(path: str):
    try:
        return importlib.import_module(path), {}
    except ModuleNotFoundError:
        module, _, name = path.rpartition(".")
        owner = importlib.import_module(module)
        return getattr(owner, name), vars(owner)


def test_every_object_on_the_api_page_is_listed_here():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    assert [line[4:].strip() for line in page.splitlines() if line.startswith("::: ")] == DOCUMENTED


@pytest.mark.parametrize("path", DOCUMENTED)
def test_the_docstring_example_runs_as_written(path, tiny_tagger, overfit_parser, food_to_movie):
    obj, module_globals = documented(path)
    names = {
        **module_globals,
        "tagger_dir": tiny_tagger,
        "parser_dir": overfit_parser[0],
        "sentiment_dir": food_to_movie[0] / "relational" / "model",
    }
    finder = doctest.DocTestFinder(recurse=False)
    examples = [t for t in finder.find(obj, path, globs=names) if t.examples]
    assert examples, f"{path}: its docstring has no example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in examples:
        runner.run(test)
    assert runner.failures == 0, f"{path}: {runner.failures} of {runner.tries} example lines printed something else"
