"""Writes that cannot destroy: outputs go to a temporary name beside the target and are renamed at
the end, an output that is one of the inputs is refused, and a folder the package did not make is
never deleted. A full disk or a read-only target is one line naming the path, with nothing
half-written left behind. Paths an output records are relative to its folder (`recorded_paths`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from xdomain_nlp.errors import XDomainError

MODEL_MARKER = "xdomain.json"  # what makes a folder a model folder the package wrote


class OutputError(XDomainError):
    """An output cannot be written where asked, or would destroy something."""


def refuse_inputs(output: str | Path, inputs: Iterable[str | Path], what: str = "output") -> None:
    """Stop when ``output`` is one of ``inputs`` (the same file by any path): writing it would empty it
    before it is read."""
    out = Path(output)
    for item in inputs:
        source = Path(str(item).split("[", 1)[0])  # a corpus spec's options are not part of the file
        same = out.exists() and source.exists() and os.path.samefile(out, source)
        if same or out.resolve() == source.resolve():
            raise OutputError(f"{output}: the {what} is the input {item}; write it to another file")


def _os_error(path: Path, error: OSError) -> OutputError:
    reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up"}.get(error.errno)
    return OutputError(f"{path}: {reason or error.strerror or error}; nothing was written there")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_file(path: str | Path, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """A text file written under a temporary name in its folder and renamed to ``path`` on success;
    on any failure the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    except OSError as error:
        raise _os_error(path, error) from None
    try:
        with os.fdopen(fd, "w", encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would have made it (mkstemp's file is private)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise _os_error(path, error) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_model_folder(out: str | Path) -> None:
    """Stop early when ``out`` cannot take a model: a file, or a non-empty folder that holds no model."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: a file, not a folder; give a folder to save the model into")
    if out.is_dir() and any(out.iterdir()) and not (out / MODEL_MARKER).is_file():
        raise OutputError(f"{out}: a folder that is not empty and holds no model ({MODEL_MARKER}); give another --out")


@contextlib.contextmanager
def model_folder(out: str | Path) -> Iterator[Path]:
    """A folder to save a model into, put in place as ``out`` at the end.

    ``out`` may not exist, be empty, or be a model folder (it is then replaced); any other folder
    is refused, never deleted. The model is written beside it first, so a failure leaves ``out``
    as it was."""
    out = Path(out)
    check_model_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    except OSError as error:
        raise _os_error(out, error) from None
    try:
        yield tmp
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old)  # the model folder this call replaced
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _os_error(out, error) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def recorded_paths(value: Any, folder: str | os.PathLike) -> Any:
    """``value`` as a file in ``folder`` records it: every local path relative to ``folder``, so that
    no absolute path of this machine is written and a run folder moved whole still finds its parts;
    corpus names (``ud:en_ewt:train``), Hub ids and other settings as they were given."""

    def record(path: str) -> str | None:
        local = Path(path).expanduser()
        if local.is_absolute() or (("/" in path or local.suffix) and local.exists()):
            return os.path.relpath(os.path.abspath(local), os.path.abspath(folder))
        return None

    return _map_paths(value, record)


def resolved_paths(value: Any, folder: str | os.PathLike) -> Any:
    """The other way: a recorded relative path that exists from ``folder`` becomes that path, for the
    code that reads it (a sentiment model's parser); everything else is left as it is."""

    def resolve(path: str) -> str | None:
        if Path(path).is_absolute() or not (path.startswith(".") or "/" in path):
            return None
        there = Path(folder) / path
        return os.path.normpath(there) if there.exists() else None

    return _map_paths(value, resolve)


def _map_paths(value: Any, change: Callable[[str], str | None]) -> Any:
    """``value`` (dicts and lists walked) with each string's path part replaced by ``change(path)``
    where that is not None; URLs and a corpus spec's ``[options]`` stay as they are."""
    if isinstance(value, dict):
        return {k: _map_paths(v, change) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_map_paths(v, change) for v in value]
    if not isinstance(value, str) or "://" in value:
        return value
    path, bracket, options = value.partition("[")
    changed = change(path) if path else None
    return value if changed is None else changed + bracket + options
