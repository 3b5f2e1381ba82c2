"""Domain shift: diagnose which shift a source/target pair has, and correct it.

Frequency feature bias (P(X) differs) is corrected by instance re-weighting (`reweighting`);
label shift (P(Y) differs) by re-estimating target priors (`labelshift`); context bias by
self-training and L2-SP (`selftrain`); `adversarial` has gradient reversal (DANN). Every
correction is checked against the uncorrected model on held-out target data (`guard`).
"""

from xdomain_nlp.shift.adversarial import DANNClassifier, grad_reverse
from xdomain_nlp.shift.guard import GuardVerdict, NegativeTransferWarning, check_negative_transfer
from xdomain_nlp.shift.instance_weights import ESTIMATORS, sentence_weights
from xdomain_nlp.shift.labelshift import BBSE, BiasCorrectedTemperatureScaling, EMLabelShift, resample_to_priors
from xdomain_nlp.shift.reweighting import KLIEP, KMM, DensityRatioEstimator, DomainClassifierWeights

__all__ = [
    "BBSE",
    "BiasCorrectedTemperatureScaling",
    "DANNClassifier",
    "ESTIMATORS",
    "KLIEP",
    "KMM",
    "DensityRatioEstimator",
    "DomainClassifierWeights",
    "EMLabelShift",
    "GuardVerdict",
    "NegativeTransferWarning",
    "check_negative_transfer",
    "grad_reverse",
    "resample_to_priors",
    "sentence_weights",
]
