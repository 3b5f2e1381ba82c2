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

from xdomain_nlp.errors import InputError, UnknownNameError
from xdomain_nlp.labelspace.tagsets import TagSet

RULE = re.compile(r"^\s*(?P<tag>[^\s\[\]]+)\s*(?:\[(?P<feats>[^\]]*)\])?\s*->\s*(?P<to>\S+)\s*$")


# Lowercase keys in a rule's brackets read another column of the word; capitalised keys are UD features.
COLUMN_KEYS = {"xpos": "xpos", "deprel": "deprels", "form": "words", "lemma": "lemmas", "suffix": "words"}
CASELESS_KEYS = ("form", "lemma", "suffix")
NO_COUNTERPART = "_"  # rule target for words the target tag set has no tag for (left out of training)


@dataclass(frozen=True)
class ConventionRule:
    """Words tagged ``tag`` whose features include all of ``feats`` (and whose other columns match
    ``where``) take ``to`` in the target."""

    tag: str
    feats: tuple[tuple[str, str], ...]
    to: str
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, text: str) -> ConventionRule:
        """``"PRON[Poss=Yes] -> DET"``; ``"ADJ[deprel=amod] -> ADJA"``; ``"ADP[form=than/as] -> KOKOM"``.

        Features are optional, ``|`` or ``,`` between them; lowercase keys (xpos, deprel, form,
        lemma, suffix) test that column, with ``/`` between accepted values (a deprel matches with
        or without its subtype, a form or lemma in any case, a suffix the end of the form:
        ``"ADV[suffix=ly] -> ADJ"``).
        """
        match = RULE.match(text)
        if not match:
            raise InputError(f"convention rule {text!r}: expected 'TAG -> TAG' or 'TAG[Feat=Value,...] -> TAG'")
        feats, where = [], []
        # Split at "|" or "," only where a new Key= follows: "form=," and "PronType=Int,Rel" stay whole.
        for item in filter(None, re.split(r"[|,](?=\s*\w+=)", match["feats"] or "")):
            key, sep, value = item.strip().partition("=")
            if not sep or not key or not value:
                raise InputError(f"convention rule {text!r}: feature {item!r} is not Feat=Value")
            if key.islower():
                if key not in COLUMN_KEYS:
                    raise InputError(f"convention rule {text!r}: {key!r} is not one of {sorted(COLUMN_KEYS)}")
                where.append((key, tuple(v.lower() if key in CASELESS_KEYS else v for v in value.split("/"))))
            else:
                feats.append((key, value))
        return cls(match["tag"], tuple(feats), match["to"], tuple(where))

    def matches(self, tag: str, feats: str | None, columns: dict[str, str] | None = None) -> bool:
        if tag != self.tag:
            return False
        have = dict(f.split("=", 1) for f in (feats or "").split("|") if "=" in f)
        if not all(have.get(k) == v for k, v in self.feats):
            return False
        for key, values in self.where:
            value = (columns or {}).get(key)
            if value is None:
                return False
            if key in CASELESS_KEYS:
                value = value.lower()
            if key == "suffix":
                if not value.endswith(values):
                    return False
                continue
            if value not in values and not (key == "deprel" and value.split(":")[0] in values):
                return False
        return True

    def __str__(self) -> str:
        conds = [f"{k}={v}" for k, v in self.feats] + [f"{k}={'/'.join(v)}" for k, v in self.where]
        return f"{self.tag}[{','.join(conds)}] -> {self.to}" if conds else f"{self.tag} -> {self.to}"


def parse_rules(
    rules: Sequence[str | ConventionRule], tags: Sequence[str], target_tags: Sequence[str] | None = None
) -> list[ConventionRule]:
    """Parsed rules, each checked to map a known source tag to a known target tag (``target_tags``
    defaults to ``tags``: a convention stays in its tag set; a projection may also name ``_``)."""
    parsed = [r if isinstance(r, ConventionRule) else ConventionRule.parse(r) for r in rules]
    targets = list(tags) if target_tags is None else [*target_tags, NO_COUNTERPART]
    for rule in parsed:
        if rule.tag not in tags:
            raise InputError(f"convention rule {str(rule)!r}: {rule.tag!r} is not a tag of the tag set {list(tags)}")
        if rule.to not in targets:
            raise InputError(f"convention rule {str(rule)!r}: {rule.to!r} is not a tag of the target tag set {targets}")
    if not parsed:
        raise InputError("a convention needs at least one rule")
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
    complete: bool = False,
) -> tuple[datasets.Dataset, Counter]:
    """``corpus`` with ``new_column``: ``column`` rewritten by the first matching rule per word.

    A word no rule matches keeps its tag, or, with ``complete`` (a projection into another tag
    set), is an error naming its sentence and word. Returns the corpus and how many words each
    rule changed (a rule that changes nothing is almost always a typo in a feature name, so
    callers should report the counts).
    """
    keys = sorted({key for rule in rules for key, _ in rule.where})
    needed = [column, feats_column] + [COLUMN_KEYS[k] for k in keys]
    for name in needed:
        if name not in corpus.column_names:
            raise UnknownNameError(f"relabel: the corpus has no column {name!r} (columns: {corpus.column_names})")
    sent_ids = corpus["sent_id"] if "sent_id" in corpus.column_names else [str(i) for i in range(len(corpus))]
    extra = {k: corpus[COLUMN_KEYS[k]] for k in keys}
    changed: Counter = Counter()
    out = []
    for i, (tags, feats) in enumerate(zip(corpus[column], corpus[feats_column])):
        row = []
        for j, (tag, f) in enumerate(zip(tags, feats)):
            columns = {k: str(extra[k][i][j]) for k in keys}
            rule = next((r for r in rules if r.matches(tag, f, columns)), None)
            if rule is None and complete:
                word = corpus[i]["words"][j] if "words" in corpus.column_names else ""
                raise InputError(
                    f"sentence {sent_ids[i]}, word {j + 1} {word!r} ({tag}, {f}): no projection rule matches; "
                    f"add a rule (or '{tag} -> {NO_COUNTERPART}' to leave such words out)"
                )
            if rule is not None:
                changed[str(rule)] += 1
            row.append(rule.to if rule is not None else tag)
        out.append(row)
    if new_column in corpus.column_names:
        corpus = corpus.remove_columns(new_column)
    return corpus.add_column(new_column, out), Counter({str(r): changed[str(r)] for r in rules})
