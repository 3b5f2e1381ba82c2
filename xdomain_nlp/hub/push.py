"""Publish an adapted model to the Hugging Face Hub (or write exactly what would be published).

The folder holds safetensors weights, the tokenizer, label maps and tag-set definitions, the
training config and a model card whose metrics come from the run's evaluation JSON.
``upload_folder`` makes one commit, so an interrupted push leaves the repo as it was and the
same command can simply be run again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import yaml
from huggingface_hub import HfApi, constants, get_token
from huggingface_hub.errors import HfHubHTTPError, HFValidationError
from huggingface_hub.utils import validate_repo_id

from xdomain_nlp.errors import XDomainError
from xdomain_nlp.hub.card import build_model_card, corpus_name, data_card_files, read_evaluations, train_specs
from xdomain_nlp.hub.task_cards import build_parser_card, build_sentiment_card, parser_scores, sentiment_scores

MODEL_FILES = ("config.json", "model.safetensors", "xdomain.json")
TASK_FILES = {  # each kind's own weights beside the encoder
    "tagging": ("mapping_heads.safetensors",),
    "parsing": ("parser_head.safetensors",),
    "graph-classification": ("graph_classifier.safetensors",),
}
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentencepiece.bpe.model",
    "vocab.txt",
)


class HubPushError(XDomainError, RuntimeError):
    """Publishing failed for a reason the user can fix (token, repo id, network, model folder)."""


def hub_client_errors() -> tuple[type[BaseException], ...]:
    """The network errors of the HTTP client ``huggingface_hub`` talks through (httpx2 from 2.x).

    Imported here, at push time, so that training and prediction work with the client that a
    machine has; a push needs 2.x, and says so in one line where an older one is installed."""
    import huggingface_hub

    major = int(huggingface_hub.__version__.split(".")[0])
    if major < 2:
        raise HubPushError(
            f"pushing needs huggingface_hub>=2 (this machine has {huggingface_hub.__version__}): "
            "pip install -U 'huggingface_hub>=2,<3'"
        )
    from httpx2 import TransportError

    return (TransportError,)


def stage_folder(
    model_dir: str | Path,
    dest: str | Path,
    repo_id: str,
    *,
    metrics_file: str | Path | None = None,
    spacy_wheel: str | Path | None = None,
    license: str | None = None,
    upper_bound: str | Path | None = None,
    local_paths: str = "refuse",
) -> Path:
    """Write the folder that `push_to_hub` uploads, and return it: the model's files, its config,
    data cards, and a card for its kind (tagger, parser, sentiment model with its parser inside).
    ``local_paths``: what to do with paths of this machine in the config (`xdomain_nlp.hub.local_paths`)."""
    model_dir, dest = Path(model_dir), Path(dest)
    if dest.exists() and not dest.is_dir():
        raise HubPushError(f"{dest}: a file is there; --dry-run writes a folder (give a new or empty one)")
    meta_file = model_dir / "xdomain.json"
    if not meta_file.is_file():
        raise HubPushError(f"{model_dir}: not an xdomain_nlp model directory (no xdomain.json)")
    if not (model_dir / "model.safetensors").is_file():
        raise HubPushError(f"{model_dir}: no model.safetensors (only safetensors weights are published)")
    wheel = Path(spacy_wheel) if spacy_wheel is not None else None
    if wheel is not None and (not wheel.is_file() or wheel.suffix != ".whl"):
        raise HubPushError(f"{wheel}: not a wheel file (build one with `python -m spacy package ... --build wheel`)")
    meta = json.loads(meta_file.read_text())
    public = published_meta(meta, meta_file, local_paths)  # what is written; meta is what is read from
    task = meta.get("task")
    if task not in TASK_FILES:
        raise HubPushError(f"{meta_file}: task {task!r} cannot be published (tagging, parsing, graph-classification)")
    if metrics_file is not None and task != "tagging":
        raise HubPushError(
            f"{model_dir}: --metrics is read for taggers; a {task} model's card takes the scores its run saved in "
            "xdomain.json"
        )
    parser_dir = sentiment_parser_dir(model_dir, meta) if task == "graph-classification" else None
    if upper_bound is not None and task != "graph-classification":
        raise HubPushError(f"{model_dir}: --upper-bound is for sentiment models; this is a {task} model")
    bound = read_upper_bound(Path(upper_bound), meta) if upper_bound is not None else None
    evaluations = []
    if task == "tagging":
        if metrics_file is None and (model_dir.parent / "metrics.json").is_file():
            metrics_file = model_dir.parent / "metrics.json"
        evaluations = read_evaluations(meta, Path(metrics_file) if metrics_file else None)

    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise HubPushError(f"{dest}: the folder to write is not empty")
    for name in MODEL_FILES + TASK_FILES[task] + TOKENIZER_FILES:
        if (model_dir / name).is_file():
            shutil.copyfile(model_dir / name, dest / name)
    if task == "tagging":  # tag sets as their own files: the source labels and every mapping head's tags
        (dest / "tag_sets").mkdir()
        source = {"name": meta.get("tag_set", "upos"), "tags": meta["labels"]}
        (dest / "tag_sets" / f"{source['name']}.json").write_text(json.dumps(source, indent=2, ensure_ascii=False))
        for name, spec in meta.get("mapping_heads", {}).items():
            spec = {k: v for k, v in spec.items() if k != "feature_layers"}
            (dest / "tag_sets" / f"{name}.json").write_text(json.dumps(spec, indent=2, ensure_ascii=False))
    (dest / "xdomain.json").write_text(json.dumps(public, indent=2, ensure_ascii=False))  # paths as decided
    if parser_dir is not None:  # the sentiment model parses with it: it travels inside the repository
        shutil.copytree(parser_dir, dest / "parser", ignore=shutil.ignore_patterns("checkpoints", "*.part"))
        parser_meta_file = dest / "parser" / "xdomain.json"
        parser_meta = published_meta(json.loads(parser_meta_file.read_text()), parser_dir / "xdomain.json", local_paths)
        parser_meta_file.write_text(json.dumps(parser_meta, indent=2, ensure_ascii=False))
    (dest / "training_config.yaml").write_text(yaml.safe_dump(public.get("config") or {}, sort_keys=False))
    scored = [e.dataset for e in evaluations] + list(parser_scores(meta)) + list(sentiment_scores(meta))
    cards = data_card_files(train_specs(meta) + scored)
    if cards:
        (dest / "data_cards").mkdir()
        for name, path in cards.items():
            shutil.copyfile(path, dest / "data_cards" / name)
    if wheel is not None:
        (dest / "spacy").mkdir()
        shutil.copyfile(wheel, dest / "spacy" / wheel.name)
    if task == "tagging":
        card = build_model_card(public, evaluations, repo_id, license=license)
    elif task == "parsing":
        card = build_parser_card(public, repo_id, license=license)
    else:
        card = build_sentiment_card(public, repo_id, license=license, upper_bound=bound)
    card.save(dest / "README.md")
    return dest


def published_meta(meta: dict, meta_file: Path, local_paths: str) -> dict:
    """``meta`` as it may be published: refused while it names local paths (the default), redacted or kept."""
    from xdomain_nlp.hub.local_paths import CHOICES, describe, redacted
    from xdomain_nlp.hub.local_paths import local_paths as find

    if local_paths not in CHOICES:
        raise HubPushError(f"local_paths={local_paths!r}: use one of {', '.join(CHOICES)}")
    found = find(meta)
    if not found or local_paths == "keep":
        return meta
    if local_paths == "redact":
        return redacted(meta)
    raise HubPushError(
        f"{meta_file} names paths of this machine, which would be public: {describe(found)}; "
        "--local-paths redact publishes only their last part, --local-paths keep publishes them as they are"
    )


def sentiment_parser_dir(model_dir: Path, meta: dict) -> Path:
    """The parser a sentiment model reads with: ``model_dir/parser``, or the one its config names."""
    if (model_dir / "parser" / "xdomain.json").is_file():
        return model_dir / "parser"
    named = (meta.get("config") or {}).get("parser", "")
    for there in (model_dir / named, Path(named)) if named else ():  # recorded relative to the model folder
        if (there / "xdomain.json").is_file():
            return there
    raise HubPushError(
        f"{model_dir}: its parser ({named or 'none named'}) is not here; a sentiment model is published with the "
        f"parser it reads with: copy it to {model_dir / 'parser'}"
    )


def read_upper_bound(bound_dir: Path, meta: dict) -> dict:
    """The ``xdomain.json`` of an in-domain model for a sentiment card: trained on target labels, i.e. on
    a corpus the published model is scored on (another split of it), with scores recorded for its sets."""
    meta_file = bound_dir / "xdomain.json"
    if not meta_file.is_file():
        raise HubPushError(f"{bound_dir}: --upper-bound takes a model directory (no xdomain.json)")
    bound = json.loads(meta_file.read_text())
    if bound.get("task") != "graph-classification":
        raise HubPushError(f"{meta_file}: task {bound.get('task')!r}; the upper bound is a sentiment model")
    scored = {corpus_name(s) for s in sentiment_scores(meta)}
    if not {corpus_name(s) for s in train_specs(bound)} & scored:
        raise HubPushError(
            f"{meta_file}: trained on {' + '.join(train_specs(bound)) or 'nothing recorded'}, none of the corpora "
            f"the model is scored on ({', '.join(sorted(scored))}): an in-domain upper bound is trained on target "
            "labels"
        )
    return bound


def check_repo_id(repo_id: str) -> None:
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise HubPushError(f"bad repo id {repo_id!r}: {err}") from None
    if "/" not in repo_id:
        raise HubPushError(f"bad repo id {repo_id!r}: use 'namespace/name' (your user or organisation name first)")


def push_to_hub(
    model_dir: str | Path,
    repo_id: str,
    *,
    token: str | None = None,
    endpoint: str | None = None,
    private: bool = False,
    metrics_file: str | Path | None = None,
    spacy_wheel: str | Path | None = None,
    license: str | None = None,
    upper_bound: str | Path | None = None,
    dry_run: str | Path | None = None,
    commit_message: str = "Upload model adapted with xdomain_nlp",
    local_paths: str = "refuse",
) -> str:
    """Upload ``model_dir`` to ``repo_id``; returns the commit URL (or the folder, with ``dry_run``)."""
    check_repo_id(repo_id)
    kw = {"metrics_file": metrics_file, "spacy_wheel": spacy_wheel, "license": license, "upper_bound": upper_bound,
          "local_paths": local_paths}  # fmt: skip
    if dry_run is not None:
        return str(stage_folder(model_dir, dry_run, repo_id, **kw))
    transport_errors = hub_client_errors()
    token = token or get_token()
    if not token:
        raise HubPushError("no Hugging Face token: set HF_TOKEN, pass --token, or run `hf auth login`")
    endpoint = endpoint or constants.ENDPOINT
    api = HfApi(endpoint=endpoint, token=token)
    with tempfile.TemporaryDirectory(prefix="xdomain_push_") as tmp:
        folder = stage_folder(model_dir, Path(tmp) / "upload", repo_id, **kw)
        try:
            api.create_repo(repo_id, private=private, exist_ok=True)
            info = api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message=commit_message)
        except (*transport_errors, ConnectionError) as err:
            raise HubPushError(
                f"the connection to the Hub at {endpoint} failed: {err}; nothing was committed, run again"
            ) from err
        except HfHubHTTPError as err:
            status = err.response.status_code if err.response is not None else None
            if status in (401, 403):
                raise HubPushError(f"{endpoint} refused the token for {repo_id} (HTTP {status})") from err
            raise HubPushError(
                f"upload to {repo_id} at {endpoint} failed (HTTP {status}): {err}; nothing was committed, run again"
            ) from err
    return info.commit_url
