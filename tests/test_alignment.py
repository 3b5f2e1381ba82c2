"""Windows over long sentences: every word owned once, nothing cut, budgets kept."""

import random

import pytest

from xdomain_nlp.tagging import encode_sentence, plan_windows, token_budget_batches


@pytest.mark.parametrize("seed", range(20))
def test_every_word_is_owned_by_exactly_one_window(seed):
    rng = random.Random(seed)
    lengths = [rng.randint(1, 6) for _ in range(rng.randint(1, 300))]
    max_pieces, overlap = rng.randint(8, 60), rng.randint(0, 7)
    windows = plan_windows(lengths, max_pieces, overlap)
    owned = [w for win in windows for w in range(win.own_start, win.own_end)]
    assert owned == list(range(len(lengths)))
    for win in windows:
        assert win.start <= win.own_start <= win.own_end <= win.end
        assert sum(lengths[win.start : win.end]) <= max_pieces or win.end - win.start == 1
    for a, b in zip(windows, windows[1:]):
        assert b.start > a.start and b.start <= a.end  # progress, and no gap


def test_overlap_gives_context_on_both_sides():
    windows = plan_windows([1] * 100, 40, 10)
    assert [(w.start, w.end) for w in windows] == [(0, 40), (30, 70), (60, 100)]
    first, second = windows[0], windows[1]
    assert second.start == first.end - 10
    assert first.own_end == second.own_start == first.end - 5


def test_a_single_overlong_word_still_gets_its_label():
    pieces = [[5], list(range(100, 400)), [6]]
    windows = encode_sentence(0, pieces, [1, 2, 3], bos=0, eos=2, max_length=32, overlap=8)
    owned = sorted((i, lab) for w in windows for i, lab in zip(w.word_indices, w.labels))
    assert owned == [(0, 1), (1, 2), (2, 3)]
    assert all(len(w.input_ids) <= 32 for w in windows)
    for w in windows:
        for pos, i in zip(w.word_positions, w.word_indices):
            assert w.input_ids[pos] == pieces[i][0]


def test_short_sentence_is_one_window_with_specials():
    windows = encode_sentence(3, [[10, 11], [12]], [0, 1], bos=0, eos=2, max_length=512, overlap=64)
    assert len(windows) == 1
    w = windows[0]
    assert (w.sentence, w.input_ids, w.word_positions, w.labels) == (3, [0, 10, 11, 12, 2], [1, 3], [0, 1])


def test_token_budget_batches_cover_everything_within_budget():
    rng = random.Random(0)
    lengths = [rng.randint(3, 200) for _ in range(500)]
    batches = token_budget_batches(lengths, 1024)
    assert sorted(i for b in batches for i in b) == list(range(500))
    assert all(max(lengths[i] for i in b) * len(b) <= 1024 for b in batches)


def test_capitalisation_noise_only_touches_lower_case_initials():
    from xdomain_nlp.tagging import capitalisation_noise

    words = [["the", "cat", "Paris", "123", "éclair", ""] * 50]
    noisy = capitalisation_noise(words, 0.5, seed=1)
    assert noisy == capitalisation_noise(words, 0.5, seed=1)  # a function of the seed
    changed = [(a, b) for a, b in zip(words[0], noisy[0]) if a != b]
    assert 50 < len(changed) < 100  # about half of the 150 lower-case words
    assert all(b == a[0].upper() + a[1:] for a, b in changed)
    assert {a for a, _ in changed} <= {"the", "cat", "éclair"}
    assert capitalisation_noise(words, 0.0, seed=1) == words


def test_the_cache_tokenizes_words_as_the_tokenizer_does(tokenizer):
    """The cache calls the fast tokenizer's own batch encoder on the NFC form of each word."""
    import unicodedata

    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.tagging import WordPieceCache

    words = sorted({w for sent in load_corpus("ud:de_gsd:test")["words"][:200] for w in sent}) + ["\u200b", "e\u0301"]
    cache = WordPieceCache(tokenizer)
    expected = tokenizer([unicodedata.normalize("NFC", w) for w in words], add_special_tokens=False)["input_ids"]
    assert cache(words) == [ids or [cache.unk] for ids in expected]


@pytest.mark.parametrize("seed", range(10))
def test_a_sentence_that_fits_is_one_window_as_the_planner_would_cut_it(seed):
    """The single-window shortcut gives what the general path gives when nothing needs cutting."""
    rng = random.Random(seed)
    pieces = [[rng.randint(5, 99) for _ in range(rng.randint(1, 4))] for _ in range(rng.randint(1, 30))]
    labels = [rng.randint(0, 16) for _ in pieces]
    (fast,) = encode_sentence(7, pieces, labels, bos=0, eos=2, max_length=512, overlap=64)
    # Just over the budget, the general path cuts; the words it owns across windows are the same.
    total = sum(map(len, pieces)) + 2
    cut = encode_sentence(7, pieces, labels, bos=0, eos=2, max_length=total - 1, overlap=0) if total > 3 else [fast]
    assert fast.input_ids == [0, *[p for word in pieces for p in word], 2]
    assert fast.word_indices == [i for w in cut for i in w.word_indices] == list(range(len(pieces)))
    assert fast.labels == [lab for w in cut for lab in w.labels] == labels
    assert [fast.input_ids[p] for p in fast.word_positions] == [word[0] for word in pieces]
    assert encode_sentence(0, [], None, bos=0, eos=2, max_length=16, overlap=4) == []  # no words, no window


def test_word_lists_and_a_corpus_are_cut_into_the_same_windows(tokenizer):
    """`encode_words` (predict, the spaCy components) and `encode_corpus` (evaluate, training) agree,
    long sentences included."""
    from xdomain_nlp.data import load_corpus
    from xdomain_nlp.tagging.data import encode_corpus, encode_words

    corpus = load_corpus("ud:de_gsd:test").select(range(40))
    long = [w for sent in corpus["words"][:6] for w in sent]  # a few sentences as one: cut into windows
    corpus = corpus.add_item({**corpus[0], "words": long, "upos": [corpus[0]["upos"][0]] * len(long)})
    from_words = encode_words(corpus["words"], tokenizer, max_length=64, overlap=16)
    from_corpus = encode_corpus(corpus, tokenizer, label_column=None, label2id=None, max_length=64, overlap=16)
    assert len([w for w in from_words if w.sentence == 40]) > 1
    assert [(w.sentence, w.input_ids, w.word_indices, w.word_positions) for w in from_words] == [
        (w.sentence, w.input_ids, w.word_indices, w.word_positions) for w in from_corpus
    ]
