"""The quadratic program of kernel mean matching: a convex quadratic over a box and a slab.

    min_b  1/2 b'Kb - kappa'b   s.t.  0 <= b_i <= upper,  lo <= sum(b) <= hi

Small enough for accelerated projected gradient (FISTA) with an exact projection, so KMM needs
no QP solver package.
"""

from __future__ import annotations

import numpy as np


def project_box_slab(v: np.ndarray, upper: float, lo: float, hi: float) -> np.ndarray:
    """Euclidean projection onto {0 <= b <= upper, lo <= sum(b) <= hi}."""
    b = np.clip(v, 0.0, upper)
    total = b.sum()
    if lo <= total <= hi:
        return b
    goal = lo if total < lo else hi
    # sum(clip(v - tau)) is non-increasing in tau: bisect for the tau that hits the goal.
    left, right = v.min() - upper - 1.0, v.max() + 1.0
    for _ in range(100):
        tau = 0.5 * (left + right)
        if np.clip(v - tau, 0.0, upper).sum() > goal:
            left = tau
        else:
            right = tau
    return np.clip(v - 0.5 * (left + right), 0.0, upper)


def solve_box_slab_qp(
    K: np.ndarray, kappa: np.ndarray, upper: float, lo: float, hi: float, max_iter: int = 5000, tol: float = 1e-7
) -> tuple[np.ndarray, int, bool]:
    """min 1/2 b'Kb - kappa'b over the box-and-slab set (FISTA with exact projections)."""
    n = len(kappa)
    lipschitz = float(np.linalg.eigvalsh(K)[-1]) if n <= 3000 else float(np.abs(K).sum(1).max())
    step = 1.0 / lipschitz
    b = project_box_slab(np.ones(n), upper, lo, hi)
    y, t = b.copy(), 1.0
    for it in range(1, max_iter + 1):
        b_next = project_box_slab(y - step * (K @ y - kappa), upper, lo, hi)
        t_next = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        y = b_next + ((t - 1) / t_next) * (b_next - b)
        if np.linalg.norm(b_next - b) <= tol * max(1.0, np.linalg.norm(b)):
            return b_next, it, True
        b, t = b_next, t_next
    return b, max_iter, False
