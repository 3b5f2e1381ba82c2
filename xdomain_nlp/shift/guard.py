"""Negative-transfer guard: a correction that makes held-out target scores worse is reported, loudly.

Corrections are estimates; re-weighting with a poor density ratio, or self-training on wrong
pseudo-labels, can hurt. The guard compares each corrected model with the uncorrected one on
held-out target data and marks the result, so a harmful correction is never shipped silently.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import asdict, dataclass


class NegativeTransferWarning(UserWarning):
    """A correction scored below the uncorrected model on held-out target data."""


@dataclass(frozen=True)
class GuardVerdict:
    method: str
    held_out: str
    baseline: float
    corrected: float
    harmful: bool

    @property
    def delta(self) -> float:
        return self.corrected - self.baseline

    def to_dict(self) -> dict:
        return {**asdict(self), "delta": round(self.delta, 4)}


def check_negative_transfer(
    method: str, held_out: str, baseline: float, corrected: float, *, tolerance: float = 0.0, stream=sys.stderr
) -> GuardVerdict:
    """Compare scores (higher is better); warn and print a banner when the correction lost more than ``tolerance``."""
    verdict = GuardVerdict(method, held_out, float(baseline), float(corrected), corrected < baseline - tolerance)
    if verdict.harmful:
        message = (
            f"NEGATIVE TRANSFER: {method} scores {corrected:.2f} on {held_out}, below the uncorrected "
            f"model's {baseline:.2f} ({verdict.delta:+.2f}); do not ship this correction"
        )
        print("!" * 8 + " " + message + " " + "!" * 8, file=stream)
        warnings.warn(message, NegativeTransferWarning, stacklevel=2)
    return verdict
