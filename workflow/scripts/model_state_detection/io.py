"""Reading and writing the workflow's files; every write is atomic (temporary file, then rename)."""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import socket
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from .data import SampleGroup

LABEL_COLUMNS = ("digit", "noise_type", "is_anomaly")


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


def write_sample_group(group: SampleGroup, path: str | Path) -> None:
    """An uncompressed .npz: zlib cost ~1 s per 10,000 images to write and again to read, and
    these are intermediate files, read by the next jobs only."""
    with atomic_path(path) as temporary:
        np.savez(
            temporary, images=group.images.astype(np.float32), digits=group.digits.astype(np.uint8), name=group.name
        )


def read_sample_group(path: str | Path) -> SampleGroup:
    with np.load(path, allow_pickle=False) as archive:
        return SampleGroup(str(archive["name"]), archive["images"], archive["digits"].astype(np.int64))


def feature_table(features: np.ndarray, source: str, group: SampleGroup) -> pd.DataFrame:
    """A table with one column per feature (``<source>_<i>``) and the label columns."""
    table = pd.DataFrame(
        np.asarray(features, dtype=np.float32), columns=[f"{source}_{i}" for i in range(features.shape[1])]
    )
    table["digit"] = group.digits.astype(np.int64)
    table["noise_type"] = group.name
    table["is_anomaly"] = group.is_anomaly
    return table


def write_table(table: pd.DataFrame, path: str | Path, threads: int = 1) -> None:
    """CSV with a header; float32 values are written in their shortest round-tripping form.

    Written by polars, whose CSV writer formats floats on ``threads`` threads (its thread pool
    is sized once per process, at its import): several times faster than pyarrow's.
    """
    frame = _polars(threads).from_pandas(table)
    with atomic_path(path) as temporary:
        frame.write_csv(temporary)


def _polars(threads: int = 1):
    """polars, its thread pool sized by ``threads`` when this is its first import in the process."""
    os.environ.setdefault("POLARS_MAX_THREADS", str(max(threads, 1)))
    import polars

    return polars


def read_feature_table(path: str | Path) -> pd.DataFrame:
    """A feature table written by ``write_table``; feature columns come back as float32.

    The feature columns are parsed straight to float32 (correctly rounded, so the shortest
    round-tripping text gives back the very value written), which halves the reading time
    compared to parsing float64 and casting.
    """
    pl = _polars()
    with open(path, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    labels = {"digit": pl.Int64, "noise_type": pl.String, "is_anomaly": pl.Boolean}
    table = pl.read_csv(path, schema={column: labels.get(column, pl.Float32) for column in header}).to_pandas()
    table["noise_type"] = table["noise_type"].astype(str)
    return table


def feature_columns(table: pd.DataFrame) -> list[str]:
    return [column for column in table.columns if column not in LABEL_COLUMNS]


def read_feature_tables(paths) -> pd.DataFrame:
    return pd.concat([read_feature_table(path) for path in paths], ignore_index=True)


def write_json(data, path: str | Path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """A small CSV (metrics, histories) written with pandas, values at full precision."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
