"""A run owns its output folder: a second run into a busy folder stops in one line.

Two runs writing one ``output_dir`` would resume each other's checkpoints and overwrite each
other's model; the folder's lock file names the process that holds it. A lock left by a process
that is gone (same host, PID no longer alive) is taken over with a warning; one from another host
cannot be checked and is refused with the file to remove.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import warnings
from pathlib import Path

from xdomain_nlp.errors import XDomainError

LOCK_FILE = ".xdomain-run.lock"


class RunLockError(XDomainError):
    """The output folder is held by another run."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class RunLock:
    """``output_dir/.xdomain-run.lock``: process id, host, start time and command of the run."""

    def __init__(self, output_dir: str | Path) -> None:
        self.path = Path(output_dir) / LOCK_FILE
        self.held = False

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                  "command": " ".join(sys.argv)}  # fmt: skip
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over(record)
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(record, handle)
            self.held = True
            return self
        raise RunLockError(f"{self.path}: could not take the lock of {self.path.parent}")

    def _take_over(self, record: dict) -> None:
        """Decide about an existing lock: ours (a run before in this process), stale (removed), or busy."""
        try:
            other = json.loads(self.path.read_text())
        except (OSError, ValueError):
            other = {}
        pid, host = other.get("pid"), other.get("host")
        if host == record["host"] and pid == record["pid"]:
            self.path.unlink(missing_ok=True)  # an earlier run of this same process
            return
        if host == record["host"] and isinstance(pid, int) and not _alive(pid):
            warnings.warn(f"{self.path}: taking over the lock of process {pid}, which is gone", stacklevel=3)
            self.path.unlink(missing_ok=True)
            return
        where = f"process {pid} on {host}" if pid else "another run"
        since = f" since {other['started']}" if other.get("started") else ""
        check = "" if host == record["host"] else f"; if that run is gone, remove {self.path}"
        raise RunLockError(
            f"{self.path.parent} is in use by {where}{since} ({other.get('command', '?')}): wait for it to finish "
            f"or give another output_dir{check}"
        )

    def release(self) -> None:
        if not self.held:
            return
        try:
            if json.loads(self.path.read_text()).get("pid") == os.getpid():
                self.path.unlink()
        except (OSError, ValueError):
            pass
        self.held = False
