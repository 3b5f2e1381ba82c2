"""Tag sets as objects: UPOS, Penn Treebank, STTS, and user-defined token or BIO span sets.

A tag set knows its tags, can say what a tag means, may declare how its tags relate to UPOS
(many-to-one and one-to-many both allowed), and turns tags into ids with an error that names
where an unknown tag was found, unless a fallback tag is declared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from xdomain_nlp.errors import InputError

UPOS_TAGS = [
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
]  # fmt: skip

# Penn Treebank as used in the XPOS column of UD English-EWT (PTB-45 plus the web-text extensions).
PTB_TAGS = [
    "$", "''", ",", "-LRB-", "-RRB-", ".", ":", "ADD", "AFX", "CC", "CD", "DT", "EX", "FW", "GW",
    "HYPH", "IN", "JJ", "JJR", "JJS", "LS", "MD", "NFP", "NN", "NNP", "NNPS", "NNS", "PDT", "POS",
    "PRP", "PRP$", "RB", "RBR", "RBS", "RP", "SYM", "TO", "UH", "VB", "VBD", "VBG", "VBN", "VBP",
    "VBZ", "WDT", "WP", "WP$", "WRB", "XX", "``", "#",
]  # fmt: skip

# The 54 tags of the Stuttgart-Tübingen tag set, as in the XPOS column of UD German-GSD.
STTS_TAGS = [
    "$(", "$,", "$.", "ADJA", "ADJD", "ADV", "APPO", "APPR", "APPRART", "APZR", "ART", "CARD", "FM",
    "ITJ", "KOKOM", "KON", "KOUI", "KOUS", "NE", "NN", "PAV", "PDAT", "PDS", "PIAT", "PIDAT", "PIS",
    "PPER", "PPOSAT", "PPOSS", "PRELAT", "PRELS", "PRF", "PTKA", "PTKANT", "PTKNEG", "PTKVZ",
    "PTKZU", "PWAT", "PWAV", "PWS", "TRUNC", "VAFIN", "VAIMP", "VAINF", "VAPP", "VMFIN", "VMINF",
    "VMPP", "VVFIN", "VVIMP", "VVINF", "VVIZU", "VVPP", "XY",
]  # fmt: skip

# Which UPOS tags each PTB tag goes with in UD English (primary reading first).
PTB_FROM_UPOS = {
    "$": ["SYM"], "''": ["PUNCT"], ",": ["PUNCT"], "-LRB-": ["PUNCT"], "-RRB-": ["PUNCT"], ".": ["PUNCT"],
    ":": ["PUNCT"], "ADD": ["X"], "AFX": ["ADJ", "X"], "CC": ["CCONJ"], "CD": ["NUM"], "DT": ["DET"],
    "EX": ["PRON"], "FW": ["X"], "GW": ["X"], "HYPH": ["PUNCT"], "IN": ["ADP", "SCONJ"], "JJ": ["ADJ"],
    "JJR": ["ADJ"], "JJS": ["ADJ"], "LS": ["X", "NUM"], "MD": ["AUX"], "NFP": ["PUNCT", "SYM"],
    "NN": ["NOUN"], "NNP": ["PROPN"], "NNPS": ["PROPN"], "NNS": ["NOUN"], "PDT": ["DET"], "POS": ["PART"],
    "PRP": ["PRON"], "PRP$": ["PRON"], "RB": ["ADV", "PART"], "RBR": ["ADV"], "RBS": ["ADV"], "RP": ["ADP"],
    "SYM": ["SYM"], "TO": ["PART", "ADP"], "UH": ["INTJ"], "VB": ["VERB", "AUX"], "VBD": ["VERB", "AUX"],
    "VBG": ["VERB", "AUX"], "VBN": ["VERB", "AUX"], "VBP": ["VERB", "AUX"], "VBZ": ["VERB", "AUX"],
    "WDT": ["PRON", "DET"], "WP": ["PRON"], "WP$": ["PRON"], "WRB": ["ADV"], "XX": ["X"], "``": ["PUNCT"],
    "#": ["SYM"],
}  # fmt: skip

# Which UPOS tags each STTS tag goes with in UD German (after the UD conversion guidelines).
STTS_FROM_UPOS = {
    "$(": ["PUNCT"], "$,": ["PUNCT"], "$.": ["PUNCT"], "ADJA": ["ADJ"], "ADJD": ["ADJ", "ADV"],
    "ADV": ["ADV"], "APPO": ["ADP"], "APPR": ["ADP"], "APPRART": ["ADP"], "APZR": ["ADP"], "ART": ["DET"],
    "CARD": ["NUM"], "FM": ["X"], "ITJ": ["INTJ"], "KOKOM": ["CCONJ", "ADP"], "KON": ["CCONJ"],
    "KOUI": ["SCONJ"], "KOUS": ["SCONJ"], "NE": ["PROPN"], "NN": ["NOUN"], "PAV": ["ADV"],
    "PDAT": ["DET"], "PDS": ["PRON"], "PIAT": ["DET"], "PIDAT": ["DET"], "PIS": ["PRON"], "PPER": ["PRON"],
    "PPOSAT": ["DET"], "PPOSS": ["PRON"], "PRELAT": ["DET"], "PRELS": ["PRON"], "PRF": ["PRON"],
    "PTKA": ["PART", "ADV"], "PTKANT": ["PART", "INTJ"], "PTKNEG": ["PART"], "PTKVZ": ["ADP", "ADV"],
    "PTKZU": ["PART"], "PWAT": ["DET"], "PWAV": ["ADV"], "PWS": ["PRON"], "TRUNC": ["X"],
    "VAFIN": ["AUX"], "VAIMP": ["AUX"], "VAINF": ["AUX"], "VAPP": ["AUX"], "VMFIN": ["AUX", "VERB"],
    "VMINF": ["AUX", "VERB"], "VMPP": ["AUX", "VERB"], "VVFIN": ["VERB"], "VVIMP": ["VERB"],
    "VVINF": ["VERB"], "VVIZU": ["VERB"], "VVPP": ["VERB"], "XY": ["X", "SYM"],
}  # fmt: skip

# The reading a linguist picks when only the UPOS tag is known (the prior's tie-break at k = 0).
STTS_DEFAULT_FROM_UPOS = {
    "ADJ": "ADJA", "ADP": "APPR", "ADV": "ADV", "AUX": "VAFIN", "CCONJ": "KON", "DET": "ART", "INTJ": "ITJ",
    "NOUN": "NN", "NUM": "CARD", "PART": "PTKNEG", "PRON": "PPER", "PROPN": "NE", "PUNCT": "$.",
    "SCONJ": "KOUS", "SYM": "XY", "VERB": "VVFIN", "X": "FM",
}  # fmt: skip
PTB_DEFAULT_FROM_UPOS = {
    "ADJ": "JJ", "ADP": "IN", "ADV": "RB", "AUX": "VBZ", "CCONJ": "CC", "DET": "DT", "INTJ": "UH",
    "NOUN": "NN", "NUM": "CD", "PART": "TO", "PRON": "PRP", "PROPN": "NNP", "PUNCT": ".", "SCONJ": "IN",
    "SYM": "SYM", "VERB": "VB", "X": "FW",
}  # fmt: skip


class UnknownTagError(InputError):
    """A tag is not in the tag set and no fallback is declared."""


class TagSetError(InputError):
    """A tag-set definition is malformed; the message names the file and field."""


@dataclass
class TagSet:
    """A label space. ``kind`` is "token" (one tag per word) or "bio" (spans, scored by seqeval)."""

    name: str
    tags: list[str]
    kind: str = "token"
    descriptions: dict[str, str] = field(default_factory=dict)
    # Declared relation to another tag set: {"upos": {"NN": ["NOUN"], ...}} (this tag -> its source tags).
    maps_from: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    fallback: str | None = None
    # Optional default reading per source tag: {"upos": {"NOUN": "NN", ...}} (one of its maps_from targets).
    defaults_from: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("token", "bio"):
            raise TagSetError(f"tag set {self.name!r}: kind must be 'token' or 'bio', got {self.kind!r}")
        if len(set(self.tags)) != len(self.tags):
            dupes = sorted({t for t in self.tags if self.tags.count(t) > 1})
            raise TagSetError(f"tag set {self.name!r}: duplicate tags {dupes}")
        if self.fallback is not None and self.fallback not in self.tags:
            raise TagSetError(f"tag set {self.name!r}: fallback {self.fallback!r} is not one of its tags")
        self.index = {t: i for i, t in enumerate(self.tags)}

    @classmethod
    def bio(cls, name: str, types: list[str], **kwargs) -> TagSet:
        """A span tag set over entity ``types``: O, then B-/I- per type."""
        tags = ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]
        return cls(name, tags, kind="bio", **kwargs)

    def __len__(self) -> int:
        return len(self.tags)

    def __contains__(self, tag: str) -> bool:
        return tag in self.index

    def id(self, tag: str, where: str = "") -> int:
        """The id of ``tag``; an unknown tag maps to the fallback or raises, naming ``where``."""
        if tag in self.index:
            return self.index[tag]
        if self.fallback is not None:
            return self.index[self.fallback]
        raise UnknownTagError(
            f"{where + ': ' if where else ''}tag {tag!r} is not in tag set {self.name!r} "
            f"({len(self.tags)} tags); declare a fallback to map unknown tags"
        )

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "tags": self.tags,
            "descriptions": self.descriptions,
            "maps_from": self.maps_from,
            "fallback": self.fallback,
            "defaults_from": self.defaults_from,
        }

    @classmethod
    def from_dict(cls, data: dict, source: str = "tag set") -> TagSet:
        if not isinstance(data, dict):
            raise TagSetError(f"{source}: expected a mapping, got {type(data).__name__}")
        unknown = set(data) - {
            "name",
            "kind",
            "tags",
            "types",
            "descriptions",
            "maps_from",
            "fallback",
            "defaults_from",
        }
        if unknown:
            raise TagSetError(f"{source}: unknown fields {sorted(unknown)}")
        if "name" not in data:
            raise TagSetError(f"{source}: missing field 'name'")
        kind = data.get("kind", "token")
        descriptions = dict(data.get("descriptions") or {})
        raw = data.get("types" if kind == "bio" and "types" in data else "tags")
        if raw is None:
            raise TagSetError(f"{source}: missing field {'types' if kind == 'bio' else 'tags'!r}")
        if isinstance(raw, dict):  # {tag: description}
            descriptions.update({str(k): str(v) for k, v in raw.items() if v})
            raw = list(raw)
        names = [str(t) for t in raw]
        maps_from = {}
        for other, table in (data.get("maps_from") or {}).items():
            if not isinstance(table, dict):
                raise TagSetError(f"{source}: maps_from.{other} must map tags to lists of {other} tags")
            maps_from[other] = {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in table.items()}
        defaults_from = {}
        for other, table in (data.get("defaults_from") or {}).items():
            if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                raise TagSetError(f"{source}: defaults_from.{other} must map each {other} tag to one tag of this set")
            defaults_from[other] = {str(k): v for k, v in table.items()}
        if kind == "bio" and "types" in data:
            tagset = cls.bio(
                data["name"],
                names,
                descriptions=descriptions,
                maps_from=maps_from,
                fallback=data.get("fallback"),
                defaults_from=defaults_from,
            )
        else:
            tagset = cls(
                data["name"],
                names,
                kind=kind,
                descriptions=descriptions,
                maps_from=maps_from,
                fallback=data.get("fallback"),
                defaults_from=defaults_from,
            )
        for other, table in tagset.maps_from.items():
            strays = sorted(set(table) - set(tagset.tags))
            if strays:
                raise TagSetError(f"{source}: maps_from.{other} names tags not in the set: {strays}")
        for other, table in tagset.defaults_from.items():
            declared = tagset.maps_from.get(other, {})
            wrong = sorted(f"{s}->{t}" for s, t in table.items() if s not in declared.get(t, []))
            if wrong:
                raise TagSetError(f"{source}: defaults_from.{other} pairs not declared in maps_from.{other}: {wrong}")
        return tagset


def load_tagset(spec: str | Path) -> TagSet:
    """A built-in tag set by name (upos, ptb, stts) or a YAML/JSON definition file."""
    name = str(spec).lower()
    if name in BUILTIN:
        return BUILTIN[name]()
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"{spec}: neither a built-in tag set ({', '.join(BUILTIN)}) nor a file")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise TagSetError(f"{path}: cannot parse ({err})") from None
    return TagSet.from_dict(data, source=str(path))


BUILTIN = {
    "upos": lambda: TagSet("upos", list(UPOS_TAGS)),
    "ptb": lambda: TagSet(
        "ptb", list(PTB_TAGS), maps_from={"upos": dict(PTB_FROM_UPOS)}, defaults_from={"upos": PTB_DEFAULT_FROM_UPOS}
    ),
    "stts": lambda: TagSet(
        "stts",
        list(STTS_TAGS),
        maps_from={"upos": dict(STTS_FROM_UPOS)},
        defaults_from={"upos": STTS_DEFAULT_FROM_UPOS},
    ),
}
