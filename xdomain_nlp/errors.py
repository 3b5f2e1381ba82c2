"""Errors for people: a user's mistake is one line naming what to fix, not a traceback.

The package raises well-worded errors (a bad config, an unknown corpus, a file that is not
CoNLL-U, a checkpoint that will not load, a Hub push that failed); the command line and the
recipes print them as ``<program>: error: <message>`` and exit with code 2. ``--debug`` on the
command line, or ``XDOMAIN_NLP_DEBUG=1``, lets the traceback through.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

USER_ERROR_EXIT = 2
# Checkpoints this process finished writing, newest last: the one an interrupted run names. The
# training layer adds to it (this module imports nothing of the package).
CHECKPOINTS_WRITTEN: list[Path] = []


class XDomainError(Exception):
    """An error the package raises for something its user can fix; the message says what.

    This module imports nothing of the package, so that every layer can raise its subclasses."""


class InputError(XDomainError, ValueError):
    """A value the user gave (a file's content, a config field, an argument) is wrong."""


class UnknownNameError(XDomainError, KeyError):
    """A name (a corpus, a split, a tag set, a column) that is not there; the message lists what is."""


class MissingPackageError(XDomainError, ModuleNotFoundError):
    """An optional package a feature needs is not installed; the message says what to install."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the input is wrong" rather than "the package is broken": the
    package's own (`XDomainError`), and the file system's and text decoding's (a missing file, a
    full disk, a file that is not UTF-8). Anything else is a bug and keeps its traceback."""
    return (XDomainError, OSError, UnicodeError)


def message_of(error: BaseException) -> str:
    """The error's own words (a KeyError's without the quotes ``str`` adds)."""
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        return error.args[0]
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error) or type(error).__name__


def debug_requested(argv: list[str]) -> bool:
    """True with ``--debug`` in ``argv`` (removed from it) or ``XDOMAIN_NLP_DEBUG`` set."""
    flag = "--debug" in argv
    while "--debug" in argv:
        argv.remove("--debug")
    return flag or os.environ.get("XDOMAIN_NLP_DEBUG", "") not in ("", "0")


def run_for_people(main: Callable[..., Any], prog: str | None = None, argv: list[str] | None = None) -> Any:
    """Call ``main(argv)``; a user error becomes one line on stderr and exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(args)
    prog = prog or Path(sys.argv[0]).stem
    try:
        return main(args)
    except KeyboardInterrupt:
        if debug:
            raise
        newest = next((p for p in reversed(CHECKPOINTS_WRITTEN) if p.is_dir()), None)  # not yet cleared
        resume = f"; the newest checkpoint is {newest}: the same command resumes from it" if newest else ""
        print(f"{prog}: interrupted{resume}", file=sys.stderr)
        raise SystemExit(130) from None
    except user_error_types() as error:
        if debug:
            raise
        lines = message_of(error).strip().splitlines() or [type(error).__name__]
        print(f"{prog}: error: {lines[0]}", file=sys.stderr)
        for line in lines[1:]:  # a config's list of problems, one per line
            print(f"{prog}:   {line.strip()}", file=sys.stderr)
        raise SystemExit(USER_ERROR_EXIT) from None
