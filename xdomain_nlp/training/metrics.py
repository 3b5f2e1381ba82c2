"""Tagging metrics: accuracy overall and per tag, confusion matrix (JSON and PNG)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from xdomain_nlp.data.catalogue import language_of
from xdomain_nlp.errors import InputError


def confusion_counts(gold: Sequence[Sequence[int]], pred: Sequence[Sequence[int]], k: int) -> np.ndarray:
    """Word counts ``[gold, predicted]`` of ``k`` tags; sums over chunks of a corpus give the whole."""
    if len(gold) != len(pred):
        raise InputError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    confusion = np.zeros((k, k), dtype=np.int64)
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise InputError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
        np.add.at(confusion, (np.asarray(g, dtype=np.int64), np.asarray(p, dtype=np.int64)), 1)
    return confusion


def tagging_report(gold: Sequence[Sequence[int]], pred: Sequence[Sequence[int]], labels: Sequence[str]) -> dict:
    """Accuracy, per-tag precision/recall/F1/support and the confusion matrix (rows = gold)."""
    return confusion_report(confusion_counts(gold, pred, len(labels)), labels)


def confusion_report(confusion: np.ndarray, labels: Sequence[str]) -> dict:
    """`tagging_report` from the confusion counts themselves."""
    total = int(confusion.sum())
    correct = int(np.trace(confusion))
    per_tag = {}
    for j, tag in enumerate(labels):
        tp = int(confusion[j, j])
        support, predicted = int(confusion[j].sum()), int(confusion[:, j].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_tag[tag] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return {
        "accuracy": 100.0 * correct / total if total else 0.0,
        "words": total,
        "per_tag": per_tag,
        "labels": list(labels),
        "confusion": confusion.tolist(),
    }


def calibration_report(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> dict:
    """How far confidence is from accuracy: the predictions (words, sentences) in ``bins`` equal-width
    confidence bins, each bin's mean confidence and accuracy, and the expected calibration error
    (their gap, weighted by the bin's count)."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    rows, gap = [], 0.0
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        mean_confidence, accuracy = (float(confidence[inside].mean()), float(correct[inside].mean())) if n else (0, 0)
        gap += n * abs(mean_confidence - accuracy)
        rows.append({
            "low": b / bins, "high": (b + 1) / bins, "count": n,
            "confidence": round(mean_confidence, 4) if n else None, "accuracy": round(accuracy, 4) if n else None,
        })  # fmt: skip
    return {"bins": rows, "ece": round(gap / max(len(confidence), 1), 4)}


def transfer_gaps(reference: dict, target: dict) -> list[dict]:
    """Per-tag F1 of two `tagging_report`s (the source language's test, the target's), largest drop
    first; tags the target has no word of are left out (their F1 there says nothing)."""
    rows = []
    for tag, scores in target["per_tag"].items():
        if scores["support"] and tag in reference["per_tag"]:
            source_f1 = reference["per_tag"][tag]["f1"]
            rows.append({"tag": tag, "source_f1": source_f1, "target_f1": scores["f1"],
                         "gap": source_f1 - scores["f1"], "support": scores["support"]})  # fmt: skip
    return sorted(rows, key=lambda r: r["gap"], reverse=True)


def pyplot():
    """matplotlib's pyplot on the file-only backend (no display on a server)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, dpi: int) -> Path:
    """Write ``fig`` to ``path`` (its folder made) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def save_confusion_png(report: dict, path: str | Path, title: str = "") -> Path:
    """Row-normalised confusion matrix as a PNG (gold tags down, predicted across)."""
    plt = pyplot()
    confusion = np.asarray(report["confusion"], dtype=float)
    labels = report["labels"]
    rows = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(0.45 * len(labels) + 2, 0.45 * len(labels) + 1.5))
    shaded = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(shaded, ax=ax, fraction=0.04, pad=0.02, label="share of the gold tag's words")
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if confusion[i, j]:
                ax.text(
                    j,
                    i,
                    int(confusion[i, j]),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if rows[i, j] > 0.5 else "black",
                )
    what = "colour: share of each gold row; numbers: word counts"
    ax.set_title(f"{title or 'accuracy ' + format(report['accuracy'], '.2f')}\n{what}", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def transfer_pairs(train: list[str], evaluated: list[str]) -> list[tuple[str, str]]:
    """``(source, target)`` treebanks to compare tag by tag: the first evaluated one in a training
    language (a test split first) against each one in another language (``ud:en_ewt:test`` against
    ``ud:de_gsd:test``); none when either side is missing or a corpus is not a named treebank."""
    trained = {language_of(spec) for spec in train} - {None}
    sources = sorted((s for s in evaluated if language_of(s) in trained), key=lambda s: not s.endswith(":test"))
    targets = [s for s in evaluated if language_of(s) not in trained | {None}]
    return [(sources[0], target) for target in targets] if sources else []


def save_transfer_gap_png(reference: dict, target: dict, path: str | Path, names: tuple[str, str]) -> Path:
    """Per-tag F1 on the source-language test beside the target's, sorted by the drop (largest on
    top), with the target's word count per tag: where the transfer loses, and how much it matters."""
    plt = pyplot()
    rows = transfer_gaps(reference, target)
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    ax.barh(y + 0.2, [100 * r["source_f1"] for r in rows], height=0.4, color="tab:blue", label=names[0])
    ax.barh(y - 0.2, [100 * r["target_f1"] for r in rows], height=0.4, color="tab:orange", label=names[1])
    ax.set_yticks(y, [r["tag"] for r in rows])
    for yi, r in zip(y, rows):
        ax.text(101, yi, f"{-100 * r['gap']:+.1f}  n={r['support']:,}", va="center", fontsize=7)
    ax.set_xlim(0, 125)
    ax.set_xlabel("F1 per tag (right: target minus source, and the target's words of that tag)")
    ax.set_title(f"Transfer gap by tag: {names[0]} -> {names[1]}", fontsize=9, pad=18)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


def save_reliability_png(calibration: dict, path: str | Path, title: str = "") -> Path:
    """Reliability diagram: accuracy against confidence by bin (the diagonal is a calibrated model),
    with each bin's share of the predictions beneath."""
    plt = pyplot()
    rows = [r for r in calibration["bins"] if r["count"]]
    total = sum(r["count"] for r in rows) or 1
    fig, (ax, counts) = plt.subplots(2, 1, figsize=(4.2, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="calibrated")
    ax.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], marker="o", label="model")
    ax.set(ylabel="accuracy in the bin", xlim=(0, 1), ylim=(0, 1))
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(f"{title}\nexpected calibration error {calibration['ece']:.3f}".strip(), fontsize=9)
    counts.bar([(r["low"] + r["high"]) / 2 for r in rows], [r["count"] / total for r in rows], width=0.09)
    counts.set(xlabel="confidence (probability of the predicted label)", ylabel="share of predictions")
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


def save_training_png(curve: list[dict], history: list[dict], path: str | Path, title: str = "") -> Path | None:
    """Loss and learning rate by step (from `FitState.curve`), and any score the run recorded at
    each epoch's end (`FitState.history`); None when there is nothing to draw."""
    if not curve:
        return None
    plt = pyplot()
    scores = sorted({k for h in history for k, v in h.items() if isinstance(v, (int, float)) and k != "epoch"})
    fig, axes = plt.subplots(1, 2 + bool(scores), figsize=(4.2 * (2 + bool(scores)), 3.2))
    steps = [c["step"] for c in curve]
    axes[0].plot(steps, [c["loss"] for c in curve], color="tab:blue")
    axes[0].set(xlabel="optimizer step", ylabel="training loss (mean over the logged steps)")
    axes[1].plot(steps, [c.get("lr", float("nan")) for c in curve], color="tab:orange")
    axes[1].set(xlabel="optimizer step", ylabel="learning rate (first group)")
    if scores:
        for key in scores:
            points = [(h.get("epoch", i + 1), h[key]) for i, h in enumerate(history) if key in h]
            axes[2].plot(*zip(*points), marker="o", label=key)
        axes[2].set(xlabel="epoch", ylabel="score at the epoch's end")
        axes[2].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


def write_json(data: dict, path: str | Path) -> Path:
    """``data`` as readable UTF-8 JSON, written under a temporary name and renamed (never half-written)."""
    from xdomain_nlp.outputs import atomic_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as handle:
        handle.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def span_report(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Exact-match span precision, recall and F1 (seqeval, CoNLL rules), in percent."""
    from seqeval.metrics import f1_score, precision_score, recall_score

    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise InputError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
    return {
        "precision": 100 * float(precision_score(gold, pred)),
        "recall": 100 * float(recall_score(gold, pred)),
        "f1": 100 * float(f1_score(gold, pred)),
        "spans": sum(t.startswith("B-") for s in gold for t in s),
    }
