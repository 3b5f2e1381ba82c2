"""Model cards for adapted models, built from what the run recorded (never from typed numbers)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from xdomain_nlp.data.catalogue import corpus_name, language_of
from xdomain_nlp.data.corpora import CORPORA
from xdomain_nlp.errors import InputError
from xdomain_nlp.hub.local_paths import REDACTED

# Where the embedded encoders come from on the Hub (for the card's base_model).
EMBEDDED_BASES = {"embedded:multilingual-e5-small": ("intfloat/multilingual-e5-small", "mit")}
UD_HUB_DATASET = "universal-dependencies/universal_dependencies"
DATA_CARDS = Path(__file__).resolve().parents[2] / "data_cards"


@dataclass(frozen=True)
class Evaluation:
    tag_set: str
    dataset: str  # corpus spec, e.g. ud:de_gsd:test
    accuracy: float
    words: int | None = None


def train_specs(meta: dict) -> list[str]:
    """The corpora a saved model was trained on (one spec or a list of them in its metadata)."""
    specs = meta.get("train") or (meta.get("config") or {}).get("train") or []
    return [specs] if isinstance(specs, str) else [s for s in specs if s]


def read_evaluations(meta: dict[str, Any], metrics_file: Path | None) -> list[Evaluation]:
    """Scores from the run's evaluation JSON (``metrics.json``; a self-training run's ``after``
    scores belong to its convention head if it had one), else from ``xdomain.json``."""
    if metrics_file is not None:
        try:
            data = json.loads(metrics_file.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(f"{metrics_file}: cannot read the evaluation JSON ({err})") from err
        results = data.get("results")
        after = data.get("after")
        if isinstance(after, dict) and after and (results is None or "rounds" in data):  # recipes/self_training.py
            name = (data.get("config") or {}).get("convention") or meta.get("tag_set", "upos")
            return [Evaluation(str(name), spec, round(float(acc), 2)) for spec, acc in after.items()]
        if not isinstance(results, dict) or not results:
            raise InputError(f"{metrics_file}: no 'results' mapping of corpus -> report")
        cfg = data.get("config") or {}
        tag_set = cfg.get("target_tag_set") or meta.get("tag_set", "upos")
        convention = data.get("convention") or {}
        groups = [(str(tag_set), results, "results")]
        if convention.get("results"):  # a target treebank's conventions (see labelspace.conventions)
            groups.append((convention["name"], convention["results"], "convention.results"))
        out = []
        for name, reports, where in groups:
            for spec, report in reports.items():
                if "accuracy" not in report:
                    raise InputError(f"{metrics_file}: {where}[{spec!r}] has no 'accuracy'")
                out.append(Evaluation(name, spec, round(float(report["accuracy"]), 2), report.get("words")))
        return out
    scores = {meta.get("tag_set", "upos"): meta.get("metrics", {}), **meta.get("metrics_by_tag_set", {})}
    return [Evaluation(name, spec, float(acc)) for name, by_spec in scores.items() for spec, acc in by_spec.items()]


def base_model(meta: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """The base model as the config names it, its Hub id (None for a local folder, even "models/enc")
    and its license when known."""
    base = (meta.get("config") or {}).get("model", "")
    redacted = base.startswith(REDACTED)  # a local path that push redacted
    looks_like_hub_id = base.count("/") == 1 and not redacted and not Path(base).expanduser().exists()
    hub_id, license = EMBEDDED_BASES.get(base, (base if looks_like_hub_id else None, None))
    return base, hub_id, license


def subset_statement(meta: dict[str, Any]) -> str:
    """A plain sentence when scores come from part of each evaluation set, else ""."""
    limit = (meta.get("config") or {}).get("eval_limit") or 0
    if not limit:
        return ""
    return (
        f"**These scores are on {limit} sentences of each evaluation set** (`eval_limit: {limit}`, a seed-0 "
        "sample), not on the whole set; they are not comparable with published test-set results."
    )


def data_card_files(specs: list[str]) -> dict[str, Path]:
    """The data cards (by file name) for the named corpora a model was trained or scored on."""
    cards = {}
    for spec in specs:
        corpus = CORPORA.get(corpus_name(spec))
        if corpus is not None and (DATA_CARDS / corpus.card).is_file():
            cards[corpus.card] = DATA_CARDS / corpus.card
    return cards


def build_model_card(
    meta: dict[str, Any], evaluations: list[Evaluation], repo_id: str, *, license: str | None = None
) -> ModelCard:
    """A card with Hub metadata (languages, base model, datasets, model-index) and a readable body."""
    base, base_id, base_license = base_model(meta)
    all_specs = train_specs(meta) + [e.dataset for e in evaluations]
    languages = sorted({lang for s in all_specs if (lang := language_of(s))})
    corpora = [CORPORA[n] for n in dict.fromkeys(corpus_name(s) for s in all_specs) if n in CORPORA]
    tag_sets = [meta.get("tag_set", "upos"), *meta.get("mapping_heads", {})]

    eval_results = [
        EvalResult(
            task_type="token-classification",
            task_name=f"Part-of-speech tagging ({e.tag_set.upper()})",
            dataset_type=UD_HUB_DATASET if e.dataset.startswith("ud:") else e.dataset,
            dataset_name=corpus_label(e.dataset),
            dataset_config=corpus_name(e.dataset)[3:] if e.dataset.startswith("ud:") else None,
            dataset_split=e.dataset.split(":")[-1] if e.dataset.count(":") == 2 else None,
            metric_type="accuracy",
            metric_name=f"{e.tag_set.upper()} accuracy",
            metric_value=e.accuracy,
        )
        for e in evaluations
    ]
    data = ModelCardData(
        language=languages or None,
        license=license or base_license or "other",
        library_name="transformers",
        pipeline_tag="token-classification",
        base_model=base_id,
        datasets=[UD_HUB_DATASET] if any(c.name.startswith("ud:") for c in corpora) else None,
        tags=["xdomain-nlp", "part-of-speech", "cross-lingual-transfer", *[f"tagset-{t}" for t in tag_sets]],
        model_name=repo_id.split("/")[-1],
        eval_results=eval_results or None,
    )
    return ModelCard.from_template(data, template_str=_body(meta, evaluations, repo_id, base, corpora, tag_sets))


def corpus_label(spec: str) -> str:
    corpus = CORPORA.get(corpus_name(spec))
    split = spec.split(":")[-1] if spec.count(":") == 2 else ""
    if corpus is None:
        return spec
    title = corpus.description.split(" (")[0].split(",")[0]
    return f"{title}, {split}" if split else title


def _head_training(how: dict | None) -> str:
    """How a mapping head was fitted (saved by recipes/custom_tagset.py), in words."""
    if not how:
        return ""
    text = (
        f", fitted on {how['k']} labelled sentences of `{how['train']}`"
        if how["k"]
        else ", fitted with no labelled target sentence"
    )
    if how.get("projection"):
        text += (
            f"{' and' if how['k'] else ','} on {how['projection_sentences']} sentences of"
            f" `{how['projection_corpus']}` written in `{how['tag_set']}` by the projection rules `{how['projection']}`"
        )
    if how.get("projection_tune_steps"):
        text += (
            f" (the encoder first tuned {how['projection_tune_steps']} steps on"
            f" {how['projection_tune_sentences']} sentences of `{how['projection_corpus']}` written that way)"
        )
    if how.get("tune_steps"):
        text += f", then {how['tune_steps']} steps tuning the encoder with it"
    return text


def _adaptation(meta: dict) -> str:
    """A line on recipes/self_training.py's adaptation of a saved tagger (empty if none)."""
    how = meta.get("self_training")
    if not how:
        return ""
    parts = []
    if how.get("target_text"):
        parts.append(f"self-trained {how.get('rounds', 1)} round(s) on the words of `{how['target_text']}` (no labels)")
    if how.get("target_labelled"):
        parts.append(f"fine-tuned on `{how['target_labelled']}`")
    convention = how.get("convention")
    if convention:
        rules = "; ".join(f"`{r}`" for r in convention["rules"])
        parts.append(f"through the `{convention['name']}` head, whose conventions are the rules {rules}")
    return "\n- Target adaptation: " + ", ".join(parts) + "."


def _extra_tag_set_usage(heads: dict) -> str:
    if not heads:
        return ""
    name = next(iter(heads))
    return (
        f'Another tag set: `config={{"model": ..., "tag_set": "{name}"}}` (a UPOS-shaped set fills `token.pos_`, '
        "any other `token.tag_`; the scores are in `token._.xdomain_scores`)."
    )


def _body(meta, evaluations, repo_id, base, corpora, tag_sets) -> str:
    cfg = meta.get("config") or {}
    train = " + ".join(train_specs(meta)) or "?"
    rows = "\n".join(
        f"| {corpus_label(e.dataset)} | `{e.dataset}` | {e.tag_set.upper()} | {e.accuracy:.2f} |"
        + (f" {e.words} |" if e.words else " |")
        for e in evaluations
    )
    data_rows = "\n".join(
        f"| `{c.name}` | {c.description} | {c.license} | [data card](data_cards/{c.card}) |" for c in corpora
    )
    heads = meta.get("mapping_heads", {})
    head_text = (
        "\n".join(
            f"- `{name}`: {len(spec.get('tags', []))} tags, read through a mapping head"
            + _head_training(meta.get("mapping_training", {}).get(name))
            for name, spec in heads.items()
        )
        or "- none (the source tag set only)"
    )
    return f"""---
{{{{ card_data }}}}
---

# {repo_id.split("/")[-1]}

A part-of-speech tagger adapted with [xdomain_nlp](https://pypi.org/project/xdomain-nlp/): trained on
`{train}` ({meta.get("tag_set", "upos").upper()} labels) on top of `{base}`, and used across languages
and domains without target-language labels unless a tag set below says otherwise.

## Transfer method
- Source training: token classification over first subwords, frozen word embeddings, layer-wise
  learning-rate decay {cfg.get("layer_decay", "?")}, {cfg.get("epochs", "?")} epochs, learning rate {cfg.get("lr", "?")}
  (the full configuration is in `training_config.yaml`).
- Cross-lingual use: the multilingual encoder shares one subword vocabulary across languages, so the
  tagger runs on German (or any language the encoder covers) with no German training labels.{_adaptation(meta)}
- Extra tag sets:
{head_text}

## Evaluation
Measured by the training run and read from its evaluation JSON:

| data | corpus | tag set | accuracy | words |
|---|---|---|---|---|
{rows or "| (no evaluation recorded) | | | | |"}

{subset_statement(meta)}

## Training and evaluation data
| corpus | what | license | card |
|---|---|---|---|
{data_rows or "| (corpora given as files; see training_config.yaml) | | | |"}

The corpora's licenses apply to the data; check them before commercial use of models trained on
non-commercial data (English GUM is CC BY-NC-SA).

## How to use
```python
import spacy
nlp = spacy.blank("{(languages_for(evaluations) or ["de"])[0]}")
nlp.add_pipe("xdomain_tagger", config={{"model": "{repo_id}"}})
print([(t.text, t.pos_) for t in nlp("Der Monitor zeigt die Werte an.")])
```
{_extra_tag_set_usage(heads)}
Or with plain `transformers`: `AutoModelForTokenClassification.from_pretrained("{repo_id}")` (labels
sit on the first subword of each word).

## Files
`model.safetensors` and `config.json` (weights, `id2label`), the tokenizer, `xdomain.json` (label
maps and tag-set definitions the package reads), `tag_sets/` (each tag set as JSON),
`training_config.yaml`, `data_cards/`.
"""


def languages_for(evaluations: list[Evaluation]) -> list[str]:
    return [lang for e in evaluations if (lang := language_of(e.dataset)) and lang != "en"]
