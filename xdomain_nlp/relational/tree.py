"""Maximum spanning tree decoding: every parse is a well-formed tree with exactly one root.

Head scores come from the biaffine scorer; picking each word's best head independently can
produce cycles or several roots. Chu-Liu/Edmonds finds the best non-projective tree (English
has some non-projective arcs, so Eisner's projective decoder would lose them).
"""

from __future__ import annotations

import numpy as np


def _find_cycle(heads: np.ndarray) -> list[int] | None:
    """A cycle in the head graph (node 0 is the root and has no head), or None."""
    n = len(heads)
    state = np.zeros(n, dtype=np.int8)  # 0 = unseen, 1 = on the current path, 2 = done
    state[0] = 2
    for start in range(1, n):
        path, node = [], start
        while state[node] == 0:
            state[node] = 1
            path.append(node)
            node = heads[node]
        if state[node] == 1:  # walked back into the current path: a cycle
            return path[path.index(node) :]
        for p in path:
            state[p] = 2
    return None


def chu_liu_edmonds(scores: np.ndarray) -> np.ndarray:
    """Best spanning arborescence rooted at 0.

    ``scores[d, h]`` is the score of word ``h`` heading word ``d`` (row and column 0 are the
    root). Returns ``heads`` with ``heads[0] = -1``.
    """
    n = scores.shape[0]
    scores = scores.astype(np.float64).copy()
    np.fill_diagonal(scores, -np.inf)
    scores[0] = -np.inf
    heads = scores.argmax(1)
    heads[0] = -1
    cycle = _find_cycle(heads)
    if cycle is None:
        return heads
    in_cycle = np.zeros(n, dtype=bool)
    in_cycle[cycle] = True
    cycle_arr = np.array(cycle)
    outside = np.flatnonzero(~in_cycle)  # includes the root at position 0
    m = len(outside)
    c = m  # the contracted node's index in the smaller graph
    sub = np.full((m + 1, m + 1), -np.inf)
    sub[:m, :m] = scores[np.ix_(outside, outside)]
    # Arcs leaving the cycle: best cycle word as head of each outside word.
    out_scores = scores[np.ix_(outside, cycle_arr)]
    best_head_in_cycle = cycle_arr[out_scores.argmax(1)]
    sub[:m, c] = out_scores.max(1)
    # Arcs entering the cycle: gain of breaking the cycle at the word that takes the new head.
    kept = scores[cycle_arr, heads[cycle_arr]]
    enter = scores[np.ix_(cycle_arr, outside)] - kept[:, None]
    best_dep_in_cycle = cycle_arr[enter.argmax(0)]
    sub[c, :m] = enter.max(0)
    sub_heads = chu_liu_edmonds(sub)
    result = heads.copy()
    for i, node in enumerate(outside):
        if node == 0:
            continue
        h = sub_heads[i]
        result[node] = best_head_in_cycle[i] if h == c else outside[h]
    entering_from = outside[sub_heads[c]]
    result[best_dep_in_cycle[sub_heads[c]]] = entering_from
    return result


def tree_score(scores: np.ndarray, heads: np.ndarray) -> float:
    return float(scores[np.arange(1, len(heads)), heads[1:]].sum())


def decode_single_root(scores: np.ndarray) -> np.ndarray:
    """`chu_liu_edmonds` constrained to one word attached to the root (UD's rule).

    When the unconstrained tree has several root children, each of them is tried as the only
    one (the others may not attach to the root) and the best-scoring tree is kept.
    """
    heads = chu_liu_edmonds(scores)
    roots = np.flatnonzero(heads[1:] == 0) + 1
    if len(roots) <= 1:
        return heads
    best, best_score = heads, -np.inf
    for r in roots:
        constrained = scores.astype(np.float64).copy()
        others = np.ones(len(heads), dtype=bool)
        others[[0, r]] = False
        constrained[others, 0] = -np.inf
        candidate = chu_liu_edmonds(constrained)
        s = tree_score(scores, candidate)
        if s > best_score:
            best, best_score = candidate, s
    return best
