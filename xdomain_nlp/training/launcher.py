"""What ``accelerate launch`` was asked for, so that the launcher's settings are used or reported.

``accelerate launch`` exports mixed precision to the process (always, "no" when not given) but not
gradient accumulation (outside DeepSpeed) nor the number of processes it was asked for; a plain
``Accelerator(mixed_precision=..., gradient_accumulation_steps=...)`` then silently overrides the
launcher. The launcher's own command line is the parent process's, and is read from there.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

FLAGS = {"mixed_precision": str, "gradient_accumulation_steps": int, "num_processes": int}


@dataclass
class LaunchRequest:
    """Settings given on the ``accelerate launch`` command line (None: not given)."""

    mixed_precision: str | None = None
    gradient_accumulation_steps: int | None = None
    num_processes: int | None = None
    cpu: bool = False


def parse_launch_command(argv: list[str]) -> LaunchRequest | None:
    """The flags of an ``accelerate launch`` command line; None if it is not one. Only what comes
    before the training script counts (after it, the arguments are the script's)."""
    starts = [i for i, a in enumerate(argv[:-1]) if Path(a).name.startswith("accelerate") and argv[i + 1] == "launch"]
    if not starts:
        return None
    start = starts[0]
    request, args = LaunchRequest(), argv[start + 2 :]
    i = 0
    while i < len(args) and args[i].startswith("-"):
        flag, _, value = args[i].lstrip("-").replace("-", "_").partition("=")
        if flag in ("cpu", "use_cpu"):
            request.cpu = True
        elif flag in FLAGS:
            if not value and i + 1 < len(args):
                i, value = i + 1, args[i + 1]
            try:
                setattr(request, flag, FLAGS[flag](value))
            except ValueError:
                pass
        elif not value and i + 1 < len(args) and not args[i + 1].startswith("-") and not args[i + 1].endswith(".py"):
            i += 1  # another flag's value
        i += 1
    return request


def launch_request() -> LaunchRequest | None:
    """The request of the ``accelerate launch`` that started this process (or its torchrun agent)."""
    if os.environ.get("XDOMAIN_LAUNCH_COMMAND"):  # set by tests, or by a wrapper that knows better
        return parse_launch_command(os.environ["XDOMAIN_LAUNCH_COMMAND"].split())
    pid = os.getppid()
    for _ in range(3):  # the launcher, or torchrun's agent under it
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
            argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
            request = parse_launch_command(argv)
            if request is not None:
                return request
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
    return None


def warn(message: str) -> None:
    """One line on stderr, from the main process only."""
    if os.environ.get("RANK", "0") == "0":
        print(f"xdomain_nlp: warning: {message}", file=sys.stderr, flush=True)
