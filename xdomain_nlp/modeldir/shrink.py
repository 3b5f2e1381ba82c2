"""A saved model made small enough to ship: vocabulary trimmed, weights stored in bf16.

Of the embedded encoder's 117M parameters, 96M are its 250k-piece embedding table, for a hundred
languages in thirty scripts. Trimming keeps the pieces written in the scripts a model's corpora
use (all Latin-script pieces for English and German, 116k): text in those scripts then segments
exactly as before, so nothing is lost on it, where keeping only the pieces some corpora need makes
unseen words split into other pieces and costs points (`benchmarks/shrink.py` measures both);
bf16 halves what is left. The folder stays
a model folder of the same kind: `xdomain_nlp.load`, spaCy and `push` take it as they are, and it
loads in fp32 for inference (bf16 is a storage format here). ``xdomain.json`` records what was
done (``shrunk``), and `benchmarks/shrink.py` measures what it costs in accuracy.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xdomain_nlp.errors import InputError
from xdomain_nlp.modeldir.download import local_model_dir
from xdomain_nlp.modeldir.meta import XDOMAIN_FILE, read_model_meta, write_model_meta
from xdomain_nlp.outputs import model_folder

REWRITTEN = {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", XDOMAIN_FILE}


def shrink_model(
    source: str | os.PathLike, dest: str | os.PathLike, *, words: Iterable[str] = (), scripts: Iterable[str] = (),
    top: int = 0, bf16: bool = False, described: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Write ``source``'s folder to ``dest`` with only the pieces ``words`` need, the pieces written
    in ``scripts`` (``LATIN``: any Latin-script text then segments as before) and the ``top`` most
    probable ones (no trimming when all three are empty; pieces without a letter, such as digits and
    punctuation, are kept whenever it trims), its float weights in bf16 when ``bf16``.
    ``described``: what ``words`` were (corpus names), for ``xdomain.json``. Returns what was done."""
    from safetensors.torch import load_file, save_file

    from xdomain_nlp.encoders.resolve import fast_tokenizer
    from xdomain_nlp.encoders.trim import (
        script_piece_ids,
        tokenizer_spec,
        top_piece_ids,
        trimmed_config,
        trimmed_tokenizer,
        used_piece_ids,
    )

    src = local_model_dir(source)
    if Path(dest).resolve() == src.resolve():
        raise InputError(f"{dest}: the model to shrink itself; write the small copy to another folder")
    meta = read_model_meta(src)
    tokenizer = fast_tokenizer(src)
    config = json.loads((src / "config.json").read_text())
    tensors = load_file(str(src / "model.safetensors"))
    vocab = config.get("vocab_size")
    tables = [k for k, v in tensors.items() if k.endswith("word_embeddings.weight") and v.shape[0] == vocab]
    if len(tables) != 1:
        raise InputError(f"{src / 'model.safetensors'}: no single word embedding table of {vocab} rows to trim")
    words, scripts = list(words), sorted(set(scripts))
    done: dict[str, Any] = {"pieces_before": vocab, "pieces": vocab, "dtype": "bf16" if bf16 else "fp32"}
    tokenizer_files: dict[str, str] = {}
    if words or scripts or top:
        spec = tokenizer_spec(tokenizer)
        keep = used_piece_ids(tokenizer, words) | script_piece_ids(spec, set(scripts)) | top_piece_ids(spec, top)
        spec, kept = trimmed_tokenizer(spec, keep, tokenizer.all_special_ids)
        remap = {old: new for new, old in enumerate(kept)}
        tensors[tables[0]] = tensors[tables[0]][kept].clone()
        config.update(trimmed_config(config, kept))
        tokenizer_files["tokenizer.json"] = json.dumps(spec, ensure_ascii=False)
        settings = json.loads((src / "tokenizer_config.json").read_text())
        if "added_tokens_decoder" in settings:  # ids of the special tokens, as the trimmed tokenizer has them
            added = settings["added_tokens_decoder"]
            settings["added_tokens_decoder"] = {str(remap[int(k)]): v for k, v in added.items() if int(k) in remap}
        tokenizer_files["tokenizer_config.json"] = json.dumps(settings, indent=2, ensure_ascii=False)
        done.update(pieces=len(kept), scripts=scripts, top=top, corpora=(described or {}).get("corpora", []))
    if bf16:  # config.json keeps fp32: the dtype a model computes in once loaded
        tensors = in_bf16(tensors)
    meta["shrunk"] = done
    with model_folder(dest) as tmp:
        for item in src.iterdir():
            if item.name in REWRITTEN or item.name == "checkpoints":
                continue
            (shutil.copytree if item.is_dir() else shutil.copyfile)(item, tmp / item.name)
        for name in ("tokenizer.json", "tokenizer_config.json"):
            (tmp / name).write_text(tokenizer_files.get(name) or (src / name).read_text())
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp / "model.safetensors"), {"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        write_model_meta(tmp, meta, final=Path(dest))
    return {**done, "megabytes": round(folder_bytes(Path(dest)) / 2**20, 1)}


def folder_bytes(folder: Path) -> int:
    """The size of everything in ``folder``."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def in_bf16(tensors: dict[str, Any]) -> dict[str, Any]:
    """``tensors`` with the float ones in bf16, as a shrunk model stores them (saved again by spaCy or
    a recipe, through `save_model`, it stays as small as it was)."""
    import torch

    return {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in tensors.items()}
