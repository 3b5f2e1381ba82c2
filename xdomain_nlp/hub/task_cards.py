"""Model cards for the parser and the sentiment models, from what their runs recorded.

The tagger's card is in `xdomain_nlp.hub.card`; these share its corpus labels, languages and base
model. A score measured on part of a set (``eval_limit``) is said to be so, in the table itself.
"""

from __future__ import annotations

from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from xdomain_nlp.data.catalogue import corpus_name, language_of
from xdomain_nlp.data.corpora import CORPORA
from xdomain_nlp.hub.card import (
    UD_HUB_DATASET,
    base_model,
    corpus_label,
    subset_statement,
    train_specs,
)

METHODS = {
    "plain": "fine-tuned on the source reviews, reading the sentence's words (no graph layers)",
    "relational": "relational graph layers over the dependency parse: what transfers is how opinion words "
    "attach to what they describe",
    "relational+lexicon": "the relational model, then trained on its own confident predictions for unlabelled "
    "target sentences and on opinion words co-extracted across domains",
}


def _split(spec: str) -> str | None:
    return spec.split(":")[-1] if spec.count(":") == 2 else None


def _card_data(meta, repo_id, license, *, pipeline_tag, tags, results, specs) -> ModelCardData:
    _, hub_id, base_license = base_model(meta)
    corpora = [CORPORA[n] for n in dict.fromkeys(corpus_name(s) for s in specs) if n in CORPORA]
    return ModelCardData(
        language=sorted({lang for s in specs if (lang := language_of(s))}) or ["en"],
        license=license or base_license or "other",
        library_name="xdomain-nlp",
        pipeline_tag=pipeline_tag,
        base_model=hub_id,
        datasets=[UD_HUB_DATASET] if any(c.name.startswith("ud:") for c in corpora) else None,
        tags=["xdomain-nlp", *tags],
        model_name=repo_id.split("/")[-1],
        eval_results=results or None,
    )


def parser_scores(meta: dict[str, Any]) -> dict[str, dict[str, float]]:
    """``{spec: {"uas": ..., "las": ...}}`` from the parser's recorded metrics."""
    scores: dict[str, dict[str, float]] = {}
    for key, value in (meta.get("metrics") or {}).items():
        spec, _, metric = key.rpartition(" ")
        if metric in ("uas", "las"):
            scores.setdefault(spec, {})[metric] = float(value)
    return scores


def build_parser_card(meta: dict[str, Any], repo_id: str, *, license: str | None = None) -> ModelCard:
    scores = parser_scores(meta)
    subset = bool((meta.get("config") or {}).get("eval_limit"))
    results = [
        EvalResult(
            task_type="dependency-parsing",
            task_name="Dependency parsing",
            dataset_type=UD_HUB_DATASET,
            dataset_name=corpus_label(spec) + (" (subset)" if subset else ""),
            dataset_config=corpus_name(spec)[3:],
            dataset_split=_split(spec),
            metric_type=metric,
            metric_name=metric.upper(),
            metric_value=round(v, 2),
        )  # fmt: skip
        for spec, by_metric in scores.items()
        for metric, v in by_metric.items()
    ]
    specs = train_specs(meta) + list(scores)
    data = _card_data(meta, repo_id, license, pipeline_tag=None, tags=["dependency-parsing"], results=results,
                      specs=specs)  # fmt: skip
    rows = "\n".join(f"| {corpus_label(s)} | `{s}` | {m['uas']:.2f} | {m['las']:.2f} |" for s, m in scores.items())
    base, _, _ = base_model(meta)
    body = f"""---
{{{{ card_data }}}}
---

# {repo_id.split("/")[-1]}

A biaffine dependency parser trained with [xdomain_nlp](https://pypi.org/project/xdomain-nlp/) on
`{" + ".join(train_specs(meta)) or "?"}` on top of `{base}`: heads by maximum spanning tree (one root a
sentence), {len(meta.get("relations", []))} relations. The package's relational sentiment models read
sentences through it.

## Evaluation
Measured by the training run (punctuation included, as UD's evaluation scores it):

| data | corpus | UAS | LAS |
|---|---|---|---|
{rows or "| (no evaluation recorded) | | | |"}

{subset_statement(meta)}

## How to use
```python
import xdomain_nlp
parser = xdomain_nlp.load("{repo_id}")
print(parser.predict("The soup was surprisingly good."))  # words, heads (0 = root), relations
```
In spaCy: `nlp.add_pipe("xdomain_parser", config={{"model": "{repo_id}"}})` sets `token.head` and `token.dep_`.
"""
    return ModelCard.from_template(data, template_str=body)


def sentiment_scores(meta: dict[str, Any]) -> dict[str, float]:
    """``{spec: accuracy}`` of the evaluation sets the run scored (label-shift extras left out)."""
    return {k: float(v) for k, v in (meta.get("metrics") or {}).items() if isinstance(v, (int, float))}


def build_sentiment_card(
    meta: dict[str, Any], repo_id: str, *, license: str | None = None, upper_bound: dict[str, Any] | None = None
) -> ModelCard:
    """The card of a Food -> Movie model; ``upper_bound``: the ``xdomain.json`` of the same recipe's model
    trained on target labels, whose scores stand beside this model's as what in-domain labels reach."""
    cfg = meta.get("config") or {}
    scores = sentiment_scores(meta)
    subset = bool(cfg.get("eval_limit"))
    results = [
        EvalResult(
            task_type="text-classification",
            task_name="Sentiment analysis (cross-domain)",
            dataset_type=spec,
            dataset_name=corpus_label(spec) + (" (subset)" if subset else ""),
            dataset_split=_split(spec),
            metric_type="accuracy",
            metric_name="accuracy",
            metric_value=round(acc, 2),
        )  # fmt: skip
        for spec, acc in scores.items()
    ]
    train = train_specs(meta)
    data = _card_data(meta, repo_id, license, pipeline_tag="text-classification",
                      tags=["sentiment-analysis", "domain-adaptation", "relational-transfer"], results=results,
                      specs=train + list(scores))  # fmt: skip
    method = meta.get("method") or ("relational" if meta.get("graph_layers") else "plain")
    rows = "\n".join(f"| {corpus_label(s)} | `{s}` | {acc:.2f} |" for s, acc in scores.items())
    header, bound_note = "| data | corpus | accuracy |\n|---|---|---|", ""
    if upper_bound is not None:
        bound = sentiment_scores(upper_bound)
        header = "| data | corpus | accuracy | in-domain upper bound |\n|---|---|---|---|"
        rows = "\n".join(
            f"| {corpus_label(s)} | `{s}` | {acc:.2f} | {f'{bound[s]:.2f}' if s in bound else 'not scored'} |"
            for s, acc in scores.items()
        )
        bound_method = upper_bound.get("method") or "plain"
        bound_limit = (upper_bound.get("config") or {}).get("eval_limit")
        bound_subset = f" (on {bound_limit} sentences of each set: its run had eval_limit)" if bound_limit else ""
        bound_note = (
            f"The upper bound is the same recipe's `{bound_method}` model trained on "
            f"`{' + '.join(train_specs(upper_bound))}` (target-domain labels), as its run scored it{bound_subset}: "
            "what labelled target data reaches, against this model's none."
        )
    base, _, _ = base_model(meta)
    body = f"""---
{{{{ card_data }}}}
---

# {repo_id.split("/")[-1]}

A sentence sentiment classifier (negative / positive) trained with
[xdomain_nlp](https://pypi.org/project/xdomain-nlp/) on `{" + ".join(train) or "?"}` (Food reviews) and used
on another domain (Movie reviews) with no label of it, on top of `{base}`.

## Transfer method
- `{method}`: {METHODS.get(method, method)}.
- {meta.get("graph_layers", 0)} relational graph layer(s), pooling `{meta.get("pooling", "words")}`. The
  parser it reads sentences with is in `parser/` of this repository.

## Evaluation
Measured by the training run, target-domain sets (no label of them was trained on):

{header}
{rows or "| (no evaluation recorded) | | |"}

{bound_note}

{subset_statement(meta)}

## How to use
```python
import xdomain_nlp
classifier = xdomain_nlp.load("{repo_id}")
print(classifier.predict("The plot was thin, but the acting is superb."))
```
In spaCy: `nlp.add_pipe("xdomain_sentiment", config={{"model": "{repo_id}"}})` sets `doc.cats`.
"""
    return ModelCard.from_template(data, template_str=body)
