"""Load the two sides of a diagnosis from corpus specs, and write the report (Markdown, JSON, PNG)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from xdomain_nlp.data.corpora import load_corpus  # noqa: E402
from xdomain_nlp.errors import InputError
from xdomain_nlp.shift.diagnosis import Side, tokenize  # noqa: E402


def load_side(spec: str, label_column: str = "upos") -> Side:
    """``ud:en_ewt:train[genre=email,reviews]``, ``sentiment:yelp:all``, or a user's file (CoNLL-U,
    TSV/CSV, JSONL, ...); several joined with ``+``. Tagged corpora give labels per token, sentiment
    sets per sentence."""
    tokens, token_labels, example_labels, texts = [], [], [], []
    for part in spec.split("+"):
        data = load_corpus(part)
        if "words" in data.column_names:
            tokens += [list(w) for w in data["words"]]
            texts += [" ".join(w) for w in data["words"]]
            tags = data[label_column] if label_column in data.column_names else []
            if any(t != "_" for sent in tags for t in sent):  # "_": an untagged file (plain text)
                token_labels += [list(t) for t in tags]
        else:
            tokens += [tokenize(t) for t in data["text"]]
            texts += list(data["text"])
            names = data.features["label"].names
            if min(data["label"]) >= 0:  # -1: a file read without labels
                example_labels += [names[i] for i in data["label"]]
    if token_labels and example_labels:
        raise InputError(f"{spec!r}: mixes tagged corpora and sentence-labelled sets")
    return Side(
        spec,
        tokens,
        token_labels=token_labels or None,
        example_labels=example_labels or None,
        texts=texts,
    )


def _barh(ax, labels, values, title, color) -> None:
    y = range(len(labels))
    ax.barh(list(y), values, color=color)
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)


def write_report(report: dict, out: str | Path, top_plot: int = 15) -> Path:
    """report.json, report.md and three PNGs in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    src, tgt = report["source"]["name"], report["target"]["name"]

    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    dw = report["domain_words"]
    _barh(
        axes[0],
        [r["word"] for r in dw["source"][:top_plot]],
        [r["z"] for r in dw["source"][:top_plot]],
        f"typical of {src}",
        "tab:blue",
    )
    _barh(
        axes[1],
        [r["word"] for r in dw["target"][:top_plot]],
        [-r["z"] for r in dw["target"][:top_plot]],
        f"typical of {tgt}",
        "tab:orange",
    )
    fig.suptitle("Domain words (log-odds z-score, Dirichlet prior)")
    fig.tight_layout()
    fig.savefig(out / "domain_words.png", dpi=110)
    plt.close(fig)

    if "label_distribution" in report:
        ld = report["label_distribution"]
        labels = sorted(set(ld["source"]) | set(ld["target"]))
        fig, ax = plt.subplots(figsize=(max(5, len(labels) * 0.5), 3.5))
        x = range(len(labels))
        ax.bar([i - 0.2 for i in x], [ld["source"].get(k, 0) for k in labels], 0.4, label=src)
        ax.bar([i + 0.2 for i in x], [ld["target"].get(k, 0) for k in labels], 0.4, label=tgt)
        ax.set_xticks(list(x), labels, rotation=60, fontsize=8)
        ax.set_title(f"Label distribution (TVD {ld['tvd']:.3f})", fontsize=10)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "label_distribution.png", dpi=110)
        plt.close(fig)
    if report.get("context_biased_words"):
        rows = report["context_biased_words"][:top_plot]
        fig, ax = plt.subplots(figsize=(6, 5))
        _barh(
            ax, [r["word"] for r in rows], [r["tvd"] for r in rows], "Context-biased words (TVD of labels)", "tab:red"
        )
        fig.tight_layout()
        fig.savefig(out / "context_words.png", dpi=110)
        plt.close(fig)
    (out / "report.md").write_text(markdown(report))
    return out


def _labels(counts: dict, k: int = 3) -> str:
    return ", ".join(f"{label} {n}" for label, n in list(counts.items())[:k])


def markdown(report: dict, top: int = 15) -> str:
    src, tgt = report["source"], report["target"]
    lines = [
        f"# Shift diagnosis: `{src['name']}` → `{tgt['name']}`",
        "",
        f"**Verdict.** {report['verdict']['text']}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| examples (source / target) | {src['examples']} / {tgt['examples']} |",
        f"| tokens (source / target) | {src['tokens']} / {tgt['tokens']} |",
        f"| unigram Jensen-Shannon divergence (bits) | {report['unigram_js_divergence']:.4f} |",
    ]
    if "domain_classifier" in report:
        dc = report["domain_classifier"]
        lines.append(f"| domain classifier AUC on encoder embeddings | {dc['auc']:.3f} |")
        lines.append(f"| proxy A-distance | {dc['proxy_a_distance']:.3f} |")
    if "label_distribution" in report:
        lines.append(f"| label distribution TVD | {report['label_distribution']['tvd']:.4f} |")
    if "context_bias" in report:
        cb = report["context_bias"]
        lines.append(
            f"| shared words (count >= {cb['min_count']} on both sides) / with label TVD > 0.3 | "
            f"{cb['shared_frequent_words']} / {cb['words_with_tvd_over_0.3']} |"
        )
        lines.append(f"| frequency-weighted label TVD of shared words | {cb['frequency_weighted_tvd']:.4f} |")
    lines += ["", "## Domain words (frequency feature bias)", "", "![domain words](domain_words.png)", ""]
    lines += [
        "| typical of source | z | count src / tgt | typical of target | z | count src / tgt |",
        "|---|---|---|---|---|---|",
    ]
    for a, b in zip(report["domain_words"]["source"][:top], report["domain_words"]["target"][:top]):
        lines.append(
            f"| {a['word']} | {a['z']:.1f} | {a['source_count']} / {a['target_count']} | "
            f"{b['word']} | {b['z']:.1f} | {b['source_count']} / {b['target_count']} |"
        )
    if report.get("context_biased_words"):
        lines += ["", "## Context-biased words (P(Y|X) differs)", "", "![context words](context_words.png)", ""]
        lines += ["| word | TVD | source: count, top labels | target: count, top labels |", "|---|---|---|---|"]
        for r in report["context_biased_words"][:top]:
            lines.append(
                f"| {r['word']} | {r['tvd']:.2f} | {r['source_count']}: {_labels(r['source_labels'])} | "
                f"{r['target_count']}: {_labels(r['target_labels'])} |"
            )
    if "label_distribution" in report:
        ld = report["label_distribution"]
        lines += ["", "## Label distributions (P(Y))", "", "![labels](label_distribution.png)", ""]
        lines += ["| label | source | target |", "|---|---|---|"]
        for k in sorted(set(ld["source"]) | set(ld["target"])):
            lines.append(f"| {k} | {ld['source'].get(k, 0):.3f} | {ld['target'].get(k, 0):.3f} |")
    return "\n".join(lines) + "\n"
