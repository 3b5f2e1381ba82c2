"""Movie pseudo-labels where a bootstrapped opinion lexicon and relational teachers agree.

The co-extractor learns on Food parses which dependency paths link opinion words (seeded by one
half of VADER) to topic words (SemEval aspect terms); on Movie parses it bootstraps a Movie
lexicon, with the teachers' sentence leanings deciding the polarity of new words. A Movie
sentence becomes a pseudo-labelled example only when the lexicon's sign and the teachers agree.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdomain_nlp.data import load_corpus
from xdomain_nlp.relational.classifier import predict_proba
from xdomain_nlp.relational.lexicon import Lexicon, LexiconCoExtractor
from xdomain_nlp.relational.vader import judge_lexicon, load_vader_lexicon, split_lexicon


def fit_coextractor(
    food_parses: Sequence[dict], topics_spec: str, *, split_seed: int = 0, rounds: int = 4, per_round: int = 60
) -> tuple[LexiconCoExtractor, dict, dict]:
    """The fitted co-extractor, the VADER half that seeds it, and the half held out to judge it."""
    seeds, held_out = split_lexicon(load_vader_lexicon(), seed=split_seed)
    topics = {
        w.lower() for row in load_corpus(topics_spec) for w, tag in zip(row["words"], row["aspect_tags"]) if tag != "O"
    }
    extractor = LexiconCoExtractor(rounds=rounds, per_round=per_round)
    return extractor.fit(food_parses, seeds, topics), seeds, held_out


def lexicon_pseudo_labels(
    teachers: Sequence, unlabelled: Sequence[tuple], parses: Sequence[dict],
    coextractor: tuple[LexiconCoExtractor, dict, dict], *, per_class: int, min_confidence: float, pad_id: int,
) -> tuple[list[tuple[int, int]], Lexicon, dict]:  # fmt: skip
    """``(sentence index, label)`` of the chosen Movie sentences, the Movie lexicon, and how the
    held-out VADER half judges that lexicon."""
    extractor, seeds, held_out = coextractor
    probs = sum(predict_proba(m, unlabelled, pad_id=pad_id) for m in teachers) / len(teachers)
    lexicon = extractor.extract(parses, seeds, sentence_polarity=(2 * probs[:, 1] - 1).tolist())
    scores = [lexicon.sentence_score(p) for p in parses]
    chosen = sorted(agreement_pseudo_labels(probs.tolist(), scores, per_class, min_confidence).items())
    return chosen, lexicon, judge_lexicon(lexicon, held_out)


def lexicon_json(lexicon: Lexicon, extractor: LexiconCoExtractor, top: int = 200) -> dict:
    """The learned path patterns and the strongest new opinion and topic words, for a person to read."""
    new = lexicon.new_opinion_words()[:top]
    topics = sorted(lexicon.topic, key=lambda w: -lexicon.topic[w])[:top]
    return {
        "patterns_linking_opinion_to_topic": extractor.pattern_weights("opinion"),
        "patterns_linking_topic_to_opinion": extractor.pattern_weights("topic"),
        "opinion_words": [{"word": w, "polarity": lexicon.opinion[w], "score": lexicon.opinion_score[w]} for w in new],
        "topic_words": [{"word": w, "score": lexicon.topic[w]} for w in topics],
    }


def agreement_pseudo_labels(
    probs: Sequence[Sequence[float]], lexicon_scores: Sequence[float], per_class: int, min_confidence: float = 0.0
) -> dict[int, int]:
    """Target sentences whose model prediction the lexicon agrees with: ``{index: label}``.

    Two views that fail differently (a classifier trained on another domain's words, a lexicon
    bootstrapped over that domain's own parses) must agree on the sign; of those, each class
    keeps its ``per_class`` most confident sentences, so the pseudo-labels stay balanced.
    """
    chosen: dict[int, int] = {}
    for label in (0, 1):
        candidates = [
            i
            for i, (p, s) in enumerate(zip(probs, lexicon_scores, strict=True))
            if max(range(len(p)), key=p.__getitem__) == label
            and p[label] >= min_confidence
            and s != 0
            and (s > 0) == (label == 1)
        ]
        candidates.sort(key=lambda i: -probs[i][label])
        chosen.update({i: label for i in candidates[:per_class]})
    return chosen
