"""Annotation conventions: the same tag set, used differently by two treebanks.

Universal Dependencies shares its 17 UPOS tags across languages, but not every decision about
them: English treebanks tag possessives ("his", "their") PRON, German ones ("sein", "ihre")
DET. A tagger trained on English then tags every German possessive PRON, right by English rules
and wrong by German ones, and no amount of training on English changes that.

A convention is declared as rules over the source corpus' own annotation, e.g.
``PRON[Poss=Yes] -> DET``: relabelling the English training sentences by the rules gives source
examples of the target's convention, and a constrained mapping head (`MappingHead` with
``allowed``) learns from them when to apply it. Only the rule's source tag can change, and only
into the rule's target, so nothing else the tagger does moves. No target-language label is read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import datasets

from xdomain_nlp.labelspace.tagsets import TagSet

RULE = re.compile(r"^\s*(?P<tag>[^\s\[\]]+)\s*(?:\[(?P<feats>[^\]]*)\])?\s*->\s*(?P<to>\S+)\s*$")


@dataclass(frozen=True)
class ConventionRule:
    """Words tagged ``tag`` whose features include all of ``feats`` take ``to`` in the target."""

    tag: str
    feats: tuple[tuple[str, str], ...]
    to: str

    @classmethod
    def parse(cls, text: str) -> ConventionRule:
        """``"PRON[Poss=Yes] -> DET"`` (features optional, ``|`` or ``,`` between them)."""
        match = RULE.match(text)
        if not match:
            raise ValueError(f"convention rule {text!r}: expected 'TAG -> TAG' or 'TAG[Feat=Value,...] -> TAG'")
        feats = []
        for item in filter(None, re.split(r"[|,]", match["feats"] or "")):
            key, sep, value = item.strip().partition("=")
            if not sep or not key or not value:
                raise ValueError(f"convention rule {text!r}: feature {item!r} is not Feat=Value")
            feats.append((key, value))
        return cls(match["tag"], tuple(feats), match["to"])

    def matches(self, tag: str, feats: str | None) -> bool:
        if tag != self.tag:
            return False
        have = dict(f.split("=", 1) for f in (feats or "").split("|") if "=" in f)
        return all(have.get(k) == v for k, v in self.feats)

    def __str__(self) -> str:
        feats = ",".join(f"{k}={v}" for k, v in self.feats)
        return f"{self.tag}[{feats}] -> {self.to}" if feats else f"{self.tag} -> {self.to}"


def parse_rules(rules: Sequence[str | ConventionRule], tags: Sequence[str]) -> list[ConventionRule]:
    """Parsed rules, each checked to map a known tag to a known tag."""
    parsed = [r if isinstance(r, ConventionRule) else ConventionRule.parse(r) for r in rules]
    for rule in parsed:
        for tag in (rule.tag, rule.to):
            if tag not in tags:
                raise ValueError(f"convention rule {str(rule)!r}: {tag!r} is not a tag of the tag set {list(tags)}")
    if not parsed:
        raise ValueError("a convention needs at least one rule")
    return parsed


def convention_tag_set(name: str, source: TagSet, rules: Sequence[ConventionRule]) -> TagSet:
    """The source tags under another convention: every tag maps to itself, plus each rule's edge."""
    maps_from = {t: [t] for t in source.tags}
    for rule in rules:
        if rule.tag not in maps_from[rule.to]:
            maps_from[rule.to].append(rule.tag)
    descriptions = {r.to: f"also {r} (target convention)" for r in rules}
    return TagSet(
        name,
        list(source.tags),
        descriptions=descriptions,
        maps_from={source.name: maps_from},
        defaults_from={source.name: {t: t for t in source.tags}},
    )


def relabel(
    corpus: datasets.Dataset,
    rules: Sequence[ConventionRule],
    *,
    column: str = "upos",
    feats_column: str = "feats",
    new_column: str = "convention",
) -> tuple[datasets.Dataset, Counter]:
    """``corpus`` with ``new_column``: ``column`` rewritten by the first matching rule per word.

    Returns the corpus and how many words each rule changed (a rule that changes nothing is
    almost always a typo in a feature name, so callers should report the counts).
    """
    for needed in (column, feats_column):
        if needed not in corpus.column_names:
            raise KeyError(f"relabel: the corpus has no column {needed!r} (columns: {corpus.column_names})")
    changed: Counter = Counter()
    out = []
    for tags, feats in zip(corpus[column], corpus[feats_column]):
        row = []
        for tag, f in zip(tags, feats):
            rule = next((r for r in rules if r.matches(tag, f)), None)
            if rule is not None:
                changed[str(rule)] += 1
            row.append(rule.to if rule is not None else tag)
        out.append(row)
    if new_column in corpus.column_names:
        corpus = corpus.remove_columns(new_column)
    return corpus.add_column(new_column, out), Counter({str(r): changed[str(r)] for r in rules})


def fit_convention_head(
    model,
    tokenizer,
    corpus: datasets.Dataset,
    name: str,
    rules: Sequence[str | ConventionRule],
    *,
    sentences: int = 2000,
    seed: int = 0,
    autocast_dtype=None,
) -> tuple[TagSet, Counter]:
    """Add tag set ``name`` (``model``'s own tags under ``rules``) to ``model``, learned from
    ``sentences`` of its source-annotated ``corpus`` relabelled by the rules."""
    from xdomain_nlp.labelspace.fit import fit_mapping_head, sample_sentences

    source = TagSet(model.source_tag_set, list(model.labels))
    parsed = parse_rules(rules, source.tags)
    target = convention_tag_set(name, source, parsed)
    corpus = corpus.select(sample_sentences(len(corpus), sentences, seed))
    corpus, changed = relabel(corpus, parsed, column=model.source_tag_set)
    silent = [rule for rule, n in changed.items() if n == 0]
    if silent:
        raise ValueError(f"convention {name!r}: rules {silent} match no word of the {len(corpus)} sentences")
    head, _, _ = fit_mapping_head(
        model,
        tokenizer,
        corpus,
        source,
        target,
        target_column="convention",
        where=f"convention {name!r}",
        seed=seed,
        autocast_dtype=autocast_dtype,
        constrained=True,
    )
    model.add_mapping_head(target, head)
    return target, changed
