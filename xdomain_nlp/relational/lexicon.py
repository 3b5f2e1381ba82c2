"""Cross-domain co-extraction of opinion and topic lexicons over dependency paths (after Li et al. 2012).

On the labelled source (Food) the parses show *how* opinion words connect to the things they
describe: "great" -nsubj-> "food", "food" -amod-> "tasty", "good" -conj-> "cheap". Each such
path pattern gets a reliability: of the words a pattern reaches from a known topic word, the
share that are known opinion words (and the reverse). On the unlabelled target (Movie) the
reliable patterns are bootstrapped from a few opinion seeds: opinion words reach topic words
("plot", "acting"), those reach new opinion words ("riveting"), round after round. Polarity
travels along opinion-opinion paths (``conj`` keeps it, a ``but`` conjunct flips it, as learned
on the source) and from the known opinion words sharing a sentence, with negation flipping them.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from xdomain_nlp.errors import InputError
from xdomain_nlp.relational.graph import RELATION_TYPES, relation_type

Step = tuple[str, str]  # (relation type, "down" = head to dependent | "up" = dependent to head)
Pattern = tuple[Step, ...]
CONTRAST = frozenset({"but", "yet", "however", "although", "though", "whereas"})
SKIPPED = frozenset({"punct", "det", "case", "aux", "mark", "cop", "other"})  # not opinion structure


def _neighbours(parse: dict) -> list[list[tuple[int, str]]]:
    """Per word: (neighbour, step label) for every arc, skipping relations that carry no opinion structure."""
    words, heads, rels = parse["words"], parse["heads"], parse["deprels"]
    contrast = {heads[i] - 1 for i, w in enumerate(words) if w.lower() in CONTRAST and heads[i] > 0}
    out: list[list[tuple[int, str]]] = [[] for _ in words]
    for d, (h, rel) in enumerate(zip(heads, rels)):
        if h == 0 or (kind := relation_type(rel, words[d])) in SKIPPED or kind == "neg":
            continue
        if kind == "conj" and d in contrast:  # "good but pricey": the conjunct opens with "but"
            kind = "conj_contrast"
        out[h - 1].append((d, f"{kind}/down"))
        out[d].append((h - 1, f"{kind}/up"))
    return out


def negated(parse: dict) -> list[bool]:
    """Words with a negation dependent ("not good"), or whose head has one and they modify it."""
    words, heads, rels = parse["words"], parse["heads"], parse["deprels"]
    has_neg = [False] * len(words)
    for d, (h, rel) in enumerate(zip(heads, rels)):
        if h > 0 and relation_type(rel, words[d]) == "neg":
            has_neg[h - 1] = True
    return [
        has_neg[i] or (h > 0 and has_neg[h - 1] and relation_type(rels[i], words[i]) in ("advmod", "amod", "comp"))
        for i, h in enumerate(heads)
    ]


def paths(parse: dict, max_length: int = 2) -> list[dict[int, set[str]]]:
    """For every word, the words within ``max_length`` arcs and the path patterns that reach them."""
    nbrs = _neighbours(parse)
    result: list[dict[int, set[str]]] = []
    for start in range(len(nbrs)):
        reached: dict[int, set[str]] = defaultdict(set)
        frontier = [(start, "")]
        for _ in range(max_length):
            nxt = []
            for node, pattern in frontier:
                for other, step in nbrs[node]:
                    if other == start:
                        continue
                    p = f"{pattern}>{step}" if pattern else step
                    reached[other].add(p)
                    nxt.append((other, p))
            frontier = nxt
        result.append(dict(reached))
    return result


@dataclass
class Lexicon:
    """Extracted words: opinion polarity in [-1, 1] and a confidence score; topic scores."""

    opinion: dict[str, float] = field(default_factory=dict)
    opinion_score: dict[str, float] = field(default_factory=dict)
    topic: dict[str, float] = field(default_factory=dict)
    seeds: set[str] = field(default_factory=set)

    def new_opinion_words(self) -> list[str]:
        """Extracted opinion words that were not seeds, best first."""
        return sorted((w for w in self.opinion if w not in self.seeds), key=lambda w: -self.opinion_score[w])

    def sentence_score(self, parse: dict) -> float:
        """Sum of the polarities of the sentence's opinion words, each flipped when negated."""
        neg = negated(parse)
        return sum(self.opinion.get(w.lower(), 0.0) * (-1 if neg[i] else 1) for i, w in enumerate(parse["words"]))


def word_profiles(
    parses: Sequence[dict],
    opinion: Iterable[str],
    topics: Iterable[str],
    patterns: Sequence[str],
    max_length: int = 2,
    min_count: int = 3,
    keep=lambda w: True,
) -> tuple[list[str], np.ndarray]:
    """Relational features of each word type seen ``min_count`` times: what it is in the parse.

    Per occurrence: its own relation type, which relations its dependents have (a negation, an
    intensifier, a copula), and for each path pattern whether it reaches a known opinion word
    or topic word. Averaged over occurrences, plus log frequency. None of it is vocabulary, so
    a model on these features learned on Food applies to Movie words it never saw.
    """
    opinion, topics = set(opinion), set(topics)
    column = {p: i for i, p in enumerate(patterns)}
    n_rel = len(RELATION_TYPES) + 1  # + root
    width = 2 * n_rel + 2 * len(patterns) + 1
    sums: dict[str, np.ndarray] = {}
    counts: Counter = Counter()
    for parse in parses:
        words = [w.lower() for w in parse["words"]]
        heads, rels = parse["heads"], parse["deprels"]
        kinds = [RELATION_TYPES.index(relation_type(r, w)) if h else n_rel - 1
                 for w, h, r in zip(parse["words"], heads, rels)]  # fmt: skip
        children: list[list[int]] = [[] for _ in words]
        for d, h in enumerate(heads):
            if h:
                children[h - 1].append(kinds[d])
        for i, reached in enumerate(paths(parse, max_length)):
            w = words[i]
            if not keep(w):
                continue
            v = sums.setdefault(w, np.zeros(width))
            counts[w] += 1
            v[kinds[i]] += 1
            for k in set(children[i]):
                v[n_rel + k] += 1
            for j, found in reached.items():
                other = words[j]
                if other == w:
                    continue
                for p in found:
                    if p in column:
                        if other in opinion:
                            v[2 * n_rel + column[p]] += 1
                        if other in topics:
                            v[2 * n_rel + len(patterns) + column[p]] += 1
    vocab = sorted(w for w in sums if counts[w] >= min_count)
    X = np.zeros((len(vocab), width))
    for r, w in enumerate(vocab):
        X[r] = np.minimum(sums[w] / counts[w], 1.0)
        X[r, -1] = math.log(counts[w]) / 10
    return vocab, X


class LexiconCoExtractor:
    """``fit`` learns, on the labelled source, what opinion and topic words look like in a parse;
    ``extract`` bootstraps both lexicons on target text from opinion seeds."""

    def __init__(
        self,
        max_length: int = 2,
        n_patterns: int = 40,
        rounds: int = 4,
        per_round: int = 60,
        min_count: int = 3,
        min_probability: float = 0.5,
        C: float = 1.0,
        stop_words: Iterable[str] | None = None,
    ) -> None:
        self.max_length = max_length
        self.n_patterns = n_patterns
        self.rounds = rounds
        self.per_round = per_round
        self.min_count = min_count
        self.min_probability = min_probability
        self.C = C
        if stop_words is None:
            from spacy.lang.en.stop_words import STOP_WORDS as stop_words
        self.stop_words = frozenset(w.lower() for w in stop_words)

    def _word_ok(self, word: str) -> bool:
        return word.isalpha() and len(word) > 2 and word not in self.stop_words

    def _profiles(self, parses, opinion, topics):
        return word_profiles(
            parses, opinion, topics, self.patterns_, self.max_length, self.min_count, keep=self._word_ok
        )

    def fit(self, parses: Sequence[dict], opinion: dict[str, float], topics: Iterable[str]) -> LexiconCoExtractor:
        """Source parses, known opinion words (with polarity) and topic words (e.g. aspect terms)."""
        from sklearn.linear_model import LogisticRegression

        topics = {t.lower() for t in topics}
        pattern_counts: Counter = Counter()
        same: Counter = Counter()
        linked: Counter = Counter()
        for parse in parses:
            words = [w.lower() for w in parse["words"]]
            for i, reached in enumerate(paths(parse, self.max_length)):
                for j, found in reached.items():
                    pattern_counts.update(found)
                    a, b = words[i], words[j]
                    if a in opinion and b in opinion and a != b:
                        linked.update(found)
                        if (opinion[a] > 0) == (opinion[b] > 0):
                            same.update(found)
        self.patterns_ = [p for p, _ in pattern_counts.most_common(self.n_patterns)]
        # Polarity agreement along opinion-opinion paths: +1 always the same sign, -1 always opposite.
        self.polarity_agreement_ = {p: 2 * same[p] / linked[p] - 1 for p in linked if linked[p] >= self.min_count}
        vocab, X = self._profiles(parses, opinion, topics)
        y_opinion = np.array([w in opinion for w in vocab])
        y_topic = np.array([w in topics for w in vocab])
        for name, y in (("opinion", y_opinion), ("topic", y_topic)):
            if y.all() or not y.any():
                raise InputError(f"the source has no {'non-' if y.all() else ''}{name} words among {len(vocab)}")
        self.opinion_model_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000).fit(X, y_opinion)
        self.topic_model_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000).fit(X, y_topic)
        self.source_words_ = {"vocabulary": len(vocab), "opinion": int(y_opinion.sum()), "topic": int(y_topic.sum())}
        return self

    def extract(
        self, parses: Sequence[dict], seeds: dict[str, float], sentence_polarity: Sequence[float] | None = None
    ) -> Lexicon:
        """Bootstrap opinion and topic words on target parses from opinion ``seeds``.

        ``sentence_polarity`` (optional, in [-1, 1] per sentence, e.g. ``2 p(positive) - 1`` of a
        source-trained classifier) adds the sentence's own leaning to each word's polarity votes.
        """
        sentences = [[w.lower() for w in p["words"]] for p in parses]
        negations = [negated(p) for p in parses]
        all_paths = [paths(p, self.max_length) for p in parses]
        vocabulary = {w for s in sentences for w in s}
        lexicon = Lexicon(seeds=set(seeds))
        for w, v in seeds.items():
            if w in vocabulary:
                lexicon.opinion[w], lexicon.opinion_score[w] = v, 1.0
        for _ in range(self.rounds):
            added = 0
            for kind in ("topic", "opinion"):
                # A word goes to the lexicon whose model is surer of it ("good" is not a topic).
                vocab, X = self._profiles(parses, lexicon.opinion, lexicon.topic)
                p_topic = self.topic_model_.predict_proba(X)[:, 1]
                p_opinion = self.opinion_model_.predict_proba(X)[:, 1]
                mine, other = (p_topic, p_opinion) if kind == "topic" else (p_opinion, p_topic)
                fresh = [
                    (p, w) for p, q, w in zip(mine, other, vocab)
                    if p >= self.min_probability and p > q and w not in lexicon.opinion and w not in lexicon.topic
                ]  # fmt: skip
                for p, w in sorted(fresh, reverse=True)[: self.per_round]:
                    added += 1
                    if kind == "topic":
                        lexicon.topic[w] = float(p)
                    else:
                        lexicon.opinion_score[w] = float(p)
                        lexicon.opinion[w] = self._polarity(
                            w, sentences, all_paths, negations, lexicon, sentence_polarity
                        )
            if not added:
                break
        return lexicon

    def _polarity(self, word, sentences, all_paths, negations, lexicon: Lexicon, sentence_polarity) -> float:
        """Mean of the votes: known opinion words on learned opinion-opinion paths (their sign times
        the path's agreement), known opinion words elsewhere in its sentences, and, when given, the
        sentence polarity a classifier assigned; each flipped where negation scopes over it."""
        votes = []
        for s, (words, reached_all, neg) in enumerate(zip(sentences, all_paths, negations)):
            if word not in words:
                continue
            i = words.index(word)
            flip = -1 if neg[i] else 1
            on_path = set()
            for j, found in reached_all[i].items():
                other = words[j]
                agree = [self.polarity_agreement_[p] for p in found if p in self.polarity_agreement_]
                if other in lexicon.opinion and other != word and agree:
                    votes.append(lexicon.opinion[other] * max(agree, key=abs))
                    on_path.add(j)
            votes += [
                flip * lexicon.opinion[other] * (-1 if neg[j] else 1)
                for j, other in enumerate(words)
                if other != word and other in lexicon.opinion and j not in on_path
            ]
            if sentence_polarity is not None:
                votes.append(flip * sentence_polarity[s])
        return max(-1.0, min(1.0, sum(votes) / len(votes))) if votes else 0.0

    def pattern_weights(self, kind: str = "opinion", top: int = 10) -> list[tuple[str, float]]:
        """The path patterns whose link to a known topic (for opinion) or opinion word (for topic)
        most raises the probability: what the source taught about how the two relate."""
        n_rel = len(RELATION_TYPES) + 1
        model = self.opinion_model_ if kind == "opinion" else self.topic_model_
        offset = 2 * n_rel + (len(self.patterns_) if kind == "opinion" else 0)
        coef = model.coef_[0][offset : offset + len(self.patterns_)]
        order = np.argsort(-coef)[:top]
        return [(self.patterns_[k], float(coef[k])) for k in order]
