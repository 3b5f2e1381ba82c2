"""What the components share: devices, precision, and moving a model directory through spaCy's I/O."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import srsly
from spacy.tokens import Doc
from spacy.vocab import Vocab

from xdomain_nlp.devices import inference_dtype, pick_device
from xdomain_nlp.errors import InputError

MODEL_SUBDIR = "model"  # where a component keeps its weights inside the pipeline directory
COMPONENT_FILE = "spacy_component.json"  # beside the weights: which factory wrote them, in which format
# The saved component's format. spaCy forbids dots in factory names (E853), so the factories keep spaCy's
# own style (``tagger``, ``parser``: no version in the name); what a pipeline saved today needs from a
# later release is that it reads this format or says it cannot. Raise it when the layout changes.
COMPONENT_FORMAT = 1


def write_component_file(path: Path, factory: str) -> None:
    """Record the factory and format beside the weights a component saves."""
    from xdomain_nlp.version import __version__

    record = {"factory": factory, "format": COMPONENT_FORMAT, "xdomain_nlp": __version__}
    srsly.write_json(path / COMPONENT_FILE, record)


def check_component_file(path: Path, factory: str) -> None:
    """A saved component this release can read, or an error that says what wrote it."""
    file = path / COMPONENT_FILE
    if not file.is_file():  # pipelines saved before the format was recorded are format 1
        return
    saved = srsly.read_json(file)
    if saved.get("factory") != factory:
        raise InputError(f"{file}: saved by the {saved.get('factory')!r} component, not {factory!r}")
    if int(saved.get("format", 1)) > COMPONENT_FORMAT:
        raise InputError(
            f"{file}: component format {saved['format']} (written by xdomain_nlp {saved.get('xdomain_nlp', '?')}); "
            f"this xdomain_nlp reads format {COMPONENT_FORMAT} and older: upgrade xdomain_nlp to load this pipeline"
        )


def dir_to_bytes(path: Path) -> bytes:
    """A flat model directory as one msgpack blob (for ``nlp.to_bytes``)."""
    return srsly.msgpack_dumps({p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()})


def bytes_to_dir(data: bytes) -> Path:
    """The inverse of `dir_to_bytes`, unpacked into a fresh temporary directory."""
    path = Path(tempfile.mkdtemp(prefix="xdomain_spacy_"))
    for name, content in srsly.msgpack_loads(data).items():
        (path / name).write_bytes(content)
    return path


class LazyModelComponent:
    """What both components share: settings, a model loaded on first use, batching, serialisation.

    Loading on first use matters for ``spacy.load``: spaCy builds the component from its config
    (whose model path may not exist on this machine) before ``from_disk`` hands it the saved copy.
    Subclasses define ``factory`` (their registered name), ``load(source)``, ``set_annotations(docs)``,
    ``save_model(path)`` and ``labels``.
    """

    factory = ""

    def __init__(
        self,
        vocab: Vocab,
        name: str,
        *,
        model: str,
        batch_size: int,
        max_tokens: int,
        max_length: int,
        window_overlap: int,
        device: str,
        precision: str,
    ) -> None:
        self.vocab = vocab
        self.name = name
        self.model_name = model
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.max_length = max_length
        self.window_overlap = window_overlap
        self.device = pick_device(device)
        self.precision = precision
        self.dtype = inference_dtype(self.device, precision)
        self.model = None

    def load(self, source: str | Path) -> None:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def set_annotations(self, docs: list[Doc]) -> None:  # pragma: no cover
        raise NotImplementedError

    def save_model(self, path: Path) -> None:  # pragma: no cover
        raise NotImplementedError

    def _ensure_loaded(self) -> None:
        if self.model is None:
            if not self.model_name:
                raise InputError(f"{self.name}: no model given; set the component's config 'model' to a path or Hub id")
            self.load(self.model_name)

    def initialize(self, get_examples=None, *, nlp=None) -> None:
        self._ensure_loaded()

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        self._ensure_loaded()
        stream = iter(stream)
        while batch := list(islice(stream, batch_size or self.batch_size)):
            self.set_annotations(batch)
            yield from batch

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """The weights in ``path/model``; ``exclude=["model"]`` writes none (the config's ``model`` is read
        again on first use)."""
        Path(path).mkdir(parents=True, exist_ok=True)
        if MODEL_SUBDIR in exclude:
            return
        self._ensure_loaded()
        target = Path(path) / MODEL_SUBDIR
        target.mkdir(parents=True, exist_ok=True)
        self.save_model(target)
        write_component_file(target, self.factory)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()):
        """Weights from ``path/model``; with ``exclude=["model"]``, or none saved, the config's ``model``."""
        if MODEL_SUBDIR not in exclude and (Path(path) / MODEL_SUBDIR).is_dir():
            check_component_file(Path(path) / MODEL_SUBDIR, self.factory)
            self.load(Path(path) / MODEL_SUBDIR)
        return self

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        if MODEL_SUBDIR in exclude:
            return b""
        with tempfile.TemporaryDirectory() as tmp:
            self.to_disk(tmp)
            return dir_to_bytes(Path(tmp) / MODEL_SUBDIR)

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()):
        if MODEL_SUBDIR in exclude or not data:
            return self
        tmp = bytes_to_dir(data)
        try:
            check_component_file(tmp, self.factory)
            self.load(tmp)
        finally:
            shutil.rmtree(tmp)
        return self
