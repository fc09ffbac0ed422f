"""Reading and writing the workflow's files; every write is atomic (temporary file, then rename)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_path, write_json  # noqa: F401 (the writers' home, re-exported)
from .data import SampleGroup

LABEL_COLUMNS = ("digit", "noise_type", "is_anomaly")


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


def read_header(path: str | Path) -> list[str]:
    """The column names of a CSV file."""
    with open(path, encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def read_feature_table(path: str | Path) -> pd.DataFrame:
    """A feature table written by ``write_table``; feature columns come back as float32.

    The feature columns are parsed straight to float32 (correctly rounded, so the shortest
    round-tripping text gives back the very value written), which halves the reading time
    compared to parsing float64 and casting.
    """
    pl = _polars()
    header = read_header(path)
    labels = {"digit": pl.Int64, "noise_type": pl.String, "is_anomaly": pl.Boolean}
    table = pl.read_csv(path, schema={column: labels.get(column, pl.Float32) for column in header}).to_pandas()
    table["noise_type"] = table["noise_type"].astype(str)
    return table


def feature_columns(table: pd.DataFrame) -> list[str]:
    return [column for column in table.columns if column not in LABEL_COLUMNS]


def read_feature_tables(paths) -> pd.DataFrame:
    return pd.concat([read_feature_table(path) for path in paths], ignore_index=True)


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """A small CSV (metrics, histories) written with pandas, values at full precision."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
