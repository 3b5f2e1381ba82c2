"""Scoring sentence classifiers on target corpora: accuracy, label-shift adjustment, relation ablation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from xdomain_nlp.relational.classifier import predict_proba
from xdomain_nlp.shift.labelshift import label_shares, label_shift_accuracy
from xdomain_nlp.training.metrics import calibration_report, pyplot, save_figure, save_reliability_png


def accuracy(model, items: Sequence[tuple], pad_id: int) -> float:
    """Percent of ``(windows, graph, label)`` items whose argmax is the label."""
    probs = predict_proba(model, items, pad_id=pad_id)
    gold = torch.tensor([label for _, _, label in items])
    return 100.0 * float((probs.argmax(-1) == gold).float().mean())


def score_targets(
    model, targets: dict[str, Sequence[tuple]], train_items: Sequence[tuple], *, label_shift: str = "none",
    class_balance: bool = False, pad_id: int,
) -> tuple[dict, dict[str, np.ndarray]]:  # fmt: skip
    """Accuracy on each target after the ``label_shift`` adjustment (with the calibration of the
    unadjusted posteriors: does a confidence of 0.9 mean 90% right), and the model's posteriors.

    The priors the model learned are the training label shares (0.5/0.5 under ``class_balance``);
    with an adjustment, ``unadjusted`` keeps the plain argmax accuracy and ``target_priors`` the
    estimated target class priors."""
    trained = np.full(2, 0.5) if class_balance else label_shares(train_items).numpy()
    run: dict = {}
    unadjusted, priors, posteriors, calibration = {}, {}, {}, {}
    for spec, items in targets.items():
        probs = posteriors[spec] = predict_proba(model, items, pad_id=pad_id).double().numpy()
        gold = np.array([label for _, _, label in items])
        run[spec], unadjusted[spec], priors[spec] = label_shift_accuracy(probs, gold, trained, label_shift)
        calibration[spec] = calibration_report(probs.max(1), probs.argmax(1) == gold)  # the unadjusted posteriors
    if label_shift != "none":
        run.update(unadjusted=unadjusted, target_priors=priors)
    run["calibration"] = calibration
    return run, posteriors


def without_relation(items: Sequence[tuple], relation: str) -> list[tuple]:
    """The items with every edge of ``relation`` dropped from their graphs."""
    return [(windows, graph.without([relation]), label) for windows, graph, label in items]


def mean_std(values: Sequence[float]) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "n": len(values)}


def summarise_runs(
    runs: dict[str, dict], methods: Sequence[str], evals: Sequence[str], seeds: Sequence[int], *,
    label_shift: str = "none", ablate: Sequence[str] = (),
) -> dict:  # fmt: skip
    """Mean and std over seeds of each method's accuracy on each eval set (and unadjusted, under a
    label-shift adjustment), of the lexicon figures, and of each relation ablation's change;
    ``runs`` is keyed ``"method/seedN"``."""
    summary: dict = {}
    for method in methods:
        for spec in evals:
            summary[f"{method} {spec}"] = mean_std([runs[f"{method}/seed{s}"][spec] for s in seeds])
            if label_shift != "none":
                values = [runs[f"{method}/seed{s}"]["unadjusted"][spec] for s in seeds]
                summary[f"{method} {spec} unadjusted"] = mean_std(values)
    if "relational+lexicon" in methods:
        lexicon = [runs[f"relational+lexicon/seed{s}"] for s in seeds]
        for key in ("precision_at_k", "polarity_accuracy", "extracted"):
            summary[f"lexicon {key}"] = mean_std([run["lexicon"][key] for run in lexicon])
        summary["pseudo_labels"] = mean_std([run["pseudo_labels"] for run in lexicon])
    if "relational" in methods and ablate:
        summary["ablation"] = {r: mean_std([runs[f"relational/seed{s}"]["ablation"][r] for s in seeds]) for r in ablate}
    return summary


def save_ablation_png(ablation: dict, path: Path, spec: str) -> None:
    """Bar chart of the accuracy change when each relation's edges are dropped (mean ± std over seeds)."""
    plt = pyplot()
    names = sorted(ablation, key=lambda r: ablation[r]["mean"])
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(names) + 1.2))
    ax.barh(names, [ablation[r]["mean"] for r in names], xerr=[ablation[r]["std"] for r in names], color="#c44e52")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"accuracy change on {spec} when the relation's edges are dropped (points)")
    ax.set_title("What the relational model relies on")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


def save_methods_png(
    runs: dict[str, dict], methods: Sequence[str], specs: Sequence[str], seeds: Sequence[int], path: Path
) -> Path:
    """Accuracy of each method on each target corpus: the mean over seeds as a bar, each seed as a
    dot, so that a difference between methods is seen against the spread of one method."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(specs), figsize=(1.3 * len(methods) * len(specs) + 1.5, 3.4), squeeze=False)
    for ax, spec in zip(axes[0], specs):
        for x, method in enumerate(methods):
            values = [runs[f"{method}/seed{s}"][spec] for s in seeds]
            ax.bar(x, np.mean(values), color="#8fb3d9", width=0.6)
            ax.scatter([x] * len(values), values, color="black", s=12, zorder=3)
            ax.text(x, np.mean(values), f"{np.mean(values):.1f}", ha="center", va="bottom", fontsize=7)
        low = min(runs[f"{m}/seed{s}"][spec] for m in methods for s in seeds)
        ax.set_ylim(max(0.0, low - 10), 100)
        ax.set_xticks(range(len(methods)), methods, rotation=20, fontsize=7)
        ax.set(title=spec, ylabel="accuracy (bar: mean; dots: seeds)")
    fig.suptitle(f"Food -> Movie by method, {len(seeds)} seed(s)", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


def save_method_figures(
    runs: dict[str, dict], summary: dict, out: Path, methods: Sequence[str], evals: Sequence[str],
    seeds: Sequence[int], ablate_on: str = "",
) -> None:  # fmt: skip
    """``methods.png`` (accuracy by method, a dot a seed), a reliability diagram per method and
    target (first seed: does a confidence of 0.9 mean 90% right) and, with ``ablate_on``, the
    relation ablation."""
    save_methods_png(runs, methods, evals, seeds, out / "methods.png")
    for method in methods:
        for spec, calibration in runs[f"{method}/seed{seeds[0]}"]["calibration"].items():
            name = f"reliability_{method}_{spec}".replace("+", "_").replace(":", "_")
            save_reliability_png(calibration, out / f"{name}.png", f"{method}, seed {seeds[0]}: {spec}")
    if "relational" in methods and ablate_on:
        save_ablation_png(summary["ablation"], out / "relation_ablation.png", ablate_on)
