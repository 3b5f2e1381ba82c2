"""Projections: a source treebank rewritten in a target tag set by declared rules.

A mapping prior P(STTS | UPOS) knows that a VERB becomes one of VVFIN, VVINF, VVPP ... but not
which; the English treebank does (VerbForm, the PTB tag, the deprel). Rules over the English
annotation (``VERB[VerbForm=Fin] -> VVFIN``, ``ADJ[deprel=amod] -> ADJA``) rewrite the English
training sentences in the target tag set, and a head fitted on them tags German in STTS before
seeing one German sentence; the k German sentences then teach what English cannot (APPRART,
PAV, German NN/NE decisions). Rules use the same syntax as conventions; a projection must
cover every word (``TAG -> _`` leaves words with no counterpart out).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import datasets
import yaml

from xdomain_nlp.data import load_corpora
from xdomain_nlp.errors import InputError
from xdomain_nlp.labelspace.conventions import NO_COUNTERPART, ConventionRule, parse_rules, relabel
from xdomain_nlp.labelspace.sampling import sample_sentences
from xdomain_nlp.labelspace.tagsets import TagSet, load_tagset

BUILTIN_DIR = Path(__file__).parent / "projections"
PROJECTED_COLUMN = "projected"


@dataclass
class Projection:
    """Ordered rules from a ``source`` tag set's annotation to ``target`` (first match wins)."""

    name: str
    source: TagSet
    target: TagSet
    rules: list[ConventionRule]

    def apply(self, corpus: datasets.Dataset, *, column: str | None = None) -> tuple[datasets.Dataset, Counter]:
        """``corpus`` with a ``projected`` column of target tags (``_`` for words left out) and
        the number of words each rule wrote (report the rules that wrote none: a small sample
        misses rare cases, but on a whole treebank it is mostly a typo in a feature name)."""
        return relabel(
            corpus, self.rules, column=column or self.source.name, new_column=PROJECTED_COLUMN, complete=True
        )

    @staticmethod
    def left_out(counts: Counter) -> int:
        return sum(n for rule, n in counts.items() if rule.endswith(f"-> {NO_COUNTERPART}"))


def project_sample(
    spec: str | Path, corpus_spec: str, sentences: int, *, seed: int = 0, target: TagSet | None = None
) -> tuple[Projection, datasets.Dataset, Counter, str]:
    """``sentences`` of ``corpus_spec`` (seeded; -1 = all) written by projection ``spec``; checks that it
    writes ``target``. Returns the projection, the projected corpus, the rule counts and a summary line."""

    projection = load_projection(spec)
    if target is not None and projection.target.name != target.name:
        raise InputError(f"projection {projection.name!r} writes {projection.target.name!r}, not {target.name!r}")
    corpus = load_corpora(corpus_spec)
    projected, counts = projection.apply(corpus.select(sample_sentences(len(corpus), sentences, seed)))
    silent = [rule for rule, n in counts.items() if n == 0]
    summary = (
        f"projection {projection.name}: {len(projected)} sentences of {corpus_spec}, "
        f"{projection.left_out(counts)} words with no {projection.target.name} counterpart left out"
        + (f"; rules that wrote nothing: {silent}" if silent else "")
    )
    return projection, projected, counts, summary


def load_projection(spec: str | Path) -> Projection:
    """A shipped projection by name (``ud_en_stts``) or a YAML file with name, source, target, rules."""
    path = BUILTIN_DIR / f"{spec}.yaml" if (BUILTIN_DIR / f"{spec}.yaml").is_file() else Path(spec)
    if not path.is_file():
        shipped = sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"{spec}: neither a shipped projection ({', '.join(shipped)}) nor a file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise InputError(f"{path}: cannot parse ({err})") from None
    for field in ("name", "source", "target", "rules"):
        if not isinstance(data, dict) or field not in data:
            raise InputError(f"{path}: missing field {field!r}")
    source, target = load_tagset(data["source"]), load_tagset(data["target"])
    try:
        rules = parse_rules(data["rules"], source.tags, target.tags)
    except ValueError as err:
        raise InputError(f"{path}: {err}") from None
    return Projection(str(data["name"]), source, target, rules)
