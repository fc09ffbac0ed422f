"""Atomic writes, standard library only (cheap enough for the Snakefile's parse time): a file is
written under a temporary name beside it and renamed into place once complete."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import socket
from pathlib import Path
from typing import Iterator


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def _partial_prefix(path: Path) -> str:
    # the host is part of the name: on a cluster, only this machine's processes can be checked
    return f".{path.stem}.partial-{socket.gethostname()}-"


def _remove_stale_partials(path: Path) -> None:
    """Delete the ``.partial`` files that killed writers of ``path`` on this machine left behind."""
    prefix = _partial_prefix(path)
    for partial in path.parent.glob(f"{glob.escape(prefix)}*{path.suffix}"):
        pid = partial.name[len(prefix) : len(partial.name) - len(path.suffix)]
        if pid.isdigit() and not _process_alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()


def _flush_to_disk(path: Path) -> None:
    """fsync a file or directory, so that a rename survives a power loss with its content."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); rename it to ``path`` on success.

    A job killed mid-write (even by SIGKILL) leaves at most a hidden ``.partial`` file, never
    a truncated ``path`` that could be mistaken for a finished output; the next write of
    ``path`` removes such leftovers of dead processes. The content is flushed to disk before
    the rename, so that a power loss cannot leave an empty ``path`` either.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(path)
    temporary = path.with_name(f"{_partial_prefix(path)}{os.getpid()}{path.suffix}")
    try:
        yield temporary
        _flush_to_disk(temporary)
        os.replace(temporary, path)
        _flush_to_disk(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_json(data, path: str | Path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")
