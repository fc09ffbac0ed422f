"""A catalogue of bad inputs: configurations a researcher could write and data files that could
be handed to ``data.source: npz``. test_config_and_data.py checks each one in-process (the
library raises one message naming the key or file); test_bad_input.py drives every one through
the Snakemake CLI.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np


class BadConfig(NamedTuple):
    id: str
    config: dict  # what the researcher wrote; the keys left out take their defaults
    names: str  # the message must contain this: the key that is wrong


ONE_NOISE = {"name": "blur", "kind": "gaussian", "rate": 0.1}


def _noise(**changes) -> list[dict]:
    return [{**ONE_NOISE, **changes}]


BAD_CONFIGS = [
    # wrong types
    BadConfig("seed_text", {"seed": "abc"}, "'seed'"),
    BadConfig("seed_fraction", {"seed": 1.5}, "'seed'"),
    BadConfig("seed_null", {"seed": None}, "'seed'"),
    BadConfig("data_not_a_mapping", {"data": "mnist5k"}, "'data'"),
    BadConfig("test_fraction_text", {"data": {"test_fraction": "half"}}, "'data.test_fraction'"),
    BadConfig("noise_types_not_a_list", {"noise_types": {"name": "blur"}}, "'noise_types'"),
    BadConfig("noise_item_not_a_mapping", {"noise_types": ["gaussian"]}, "'noise_types[0]'"),
    BadConfig("rate_text", {"noise_types": _noise(rate="high")}, "'noise_types[0].rate'"),
    BadConfig("hidden_units_not_a_list", {"classifier": {"hidden_units": 128}}, "'classifier.hidden_units'"),
    BadConfig("train_on_noisy_text", {"classifier": {"train_on_noisy": "maybe"}}, "'classifier.train_on_noisy'"),
    BadConfig("epochs_fraction", {"detectors": {"ann": {"epochs": 2.5}}}, "'detectors.ann.epochs'"),
    BadConfig("feature_source_number", {"feature_sources": [1]}, "'feature_sources[0]'"),
    # out of range
    BadConfig("seed_negative", {"seed": -1}, "'seed'"),
    BadConfig("test_fraction_above_1", {"data": {"test_fraction": 1.5}}, "'data.test_fraction'"),
    BadConfig("test_fraction_0", {"data": {"test_fraction": 0}}, "'data.test_fraction'"),
    BadConfig("test_fraction_too_small_for_a_split", {"data": {"test_fraction": 0.001}}, "'data.test_fraction'"),
    BadConfig("max_digits_below_100", {"data": {"max_digits": 10}}, "'data.max_digits'"),
    BadConfig("max_digits_leaves_too_few_out", {"data": {"max_digits": 4995}}, "'data.max_digits'"),
    BadConfig("rate_above_1", {"noise_types": _noise(rate=1.5)}, "'noise_types[0].rate'"),
    BadConfig("rate_negative", {"noise_types": _noise(rate=-0.1)}, "'noise_types[0].rate'"),
    BadConfig("epochs_0", {"classifier": {"epochs": 0}}, "'classifier.epochs'"),
    BadConfig("learning_rate_0", {"classifier": {"learning_rate": 0}}, "'classifier.learning_rate'"),
    BadConfig("hidden_units_0", {"classifier": {"hidden_units": [0]}}, "'classifier.hidden_units[0]'"),
    BadConfig(
        "contamination_above_half",
        {"detectors": {"isolation_forest": {"contamination": 0.7}}},
        "'detectors.isolation_forest.contamination'",
    ),
    BadConfig(
        "max_samples_1",
        {"detectors": {"isolation_forest": {"max_samples": 1}}},
        "'detectors.isolation_forest.max_samples'",
    ),
    BadConfig("threshold_1", {"detectors": {"ann": {"threshold": 1.0}}}, "'detectors.ann.threshold'"),
    # unknown names
    BadConfig("unknown_noise_kind", {"noise_types": _noise(kind="poisson")}, "'noise_types[0].kind'"),
    BadConfig("unknown_detector", {"detectors": {"lof": {"n_neighbors": 5}}}, "'lof'"),
    BadConfig("unknown_layer", {"feature_sources": ["pixel", "dense_5"]}, "'feature_sources[1]'"),
    BadConfig("unknown_source", {"data": {"source": "cifar10"}}, "'data.source'"),
    BadConfig("unknown_top_level_key", {"epochs": 5}, "'epochs'"),
    BadConfig("misspelt_top_level_key", {"noise_type": [ONE_NOISE]}, "'noise_type'"),
    BadConfig("unknown_data_key", {"data": {"sourc": "npz"}}, "'sourc'"),
    BadConfig("unknown_noise_key", {"noise_types": _noise(seed=3)}, "'seed'"),
    BadConfig(
        "unknown_fit_on", {"detectors": {"isolation_forest": {"fit_on": "all"}}}, "'detectors.isolation_forest.fit_on'"
    ),
    # empty lists, missing keys, duplicate and reserved names
    BadConfig("no_noise_types", {"noise_types": []}, "'noise_types'"),
    BadConfig("no_feature_sources", {"feature_sources": []}, "'feature_sources'"),
    BadConfig("no_hidden_layers", {"classifier": {"hidden_units": []}}, "'classifier.hidden_units'"),
    BadConfig("noise_without_rate", {"noise_types": [{"name": "blur", "kind": "gaussian"}]}, "'rate'"),
    BadConfig("duplicate_noise_names", {"noise_types": [ONE_NOISE, ONE_NOISE]}, "'blur'"),
    BadConfig("duplicate_feature_sources", {"feature_sources": ["pixel", "pixel"]}, "'feature_sources'"),
    BadConfig("noise_named_clean", {"noise_types": _noise(name="clean")}, "'clean'"),
    BadConfig("noise_name_with_slash", {"noise_types": _noise(name="a/b")}, "'noise_types[0].name'"),
    # paths
    BadConfig("npz_without_path", {"data": {"source": "npz"}}, "'data.path'"),
    BadConfig("path_without_npz", {"data": {"path": "digits.npz"}}, "'data.path'"),
    BadConfig("npz_path_missing", {"data": {"source": "npz", "path": "no/such/digits.npz"}}, "no/such/digits.npz"),
]


class BadFile(NamedTuple):
    id: str
    write: Callable[[Path], None]  # writes the bad file at the given path
    says: str  # and the message must say this about it


def _digits(n: int = 200, seed: int = 0) -> dict[str, np.ndarray]:
    """A valid mnist.npz-style set of arrays: uint8 28x28 images, every digit 0-9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    split = n * 3 // 4
    return {"x_train": images[:split], "y_train": labels[:split], "x_test": images[split:], "y_test": labels[split:]}


def write_good_npz(path: Path) -> None:
    np.savez_compressed(path, **_digits())


def _with(**changes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        arrays = {**_digits(), **changes}
        np.savez(path, **{name: array for name, array in arrays.items() if array is not None})

    return write


def _nan_pixel() -> np.ndarray:
    images = _digits()["x_train"].astype(np.float32)
    images[3, 14, 14] = np.nan
    return images


def _truncated(path: Path) -> None:
    write_good_npz(path)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def _corrupted(path: Path) -> None:
    write_good_npz(path)
    content = bytearray(path.read_bytes())
    middle = len(content) // 3
    content[middle : middle + 256] = bytes(256)
    path.write_bytes(bytes(content))


def _zip_of_other_things(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "not digits")


def _members_not_arrays(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("x_train", "y_train", "x_test", "y_test"):
            archive.writestr(f"{name}.npy", "not an array")


def _object_array(path: Path) -> None:
    arrays = _digits()
    arrays["y_train"] = np.array([str(label) for label in arrays["y_train"]], dtype=object)
    np.savez(path, **arrays)


def _npy_not_npz(path: Path) -> None:
    with open(path, "wb") as handle:
        np.save(handle, _digits()["x_train"])


BAD_FILES = [
    BadFile("missing_array", _with(y_test=None), "missing array(s) y_test"),
    BadFile("images_not_28x28", _with(x_train=np.zeros((150, 20, 20), np.uint8)), "x_train has shape (150, 20, 20)"),
    BadFile("fewer_labels_than_images", _with(y_train=np.zeros(10, np.uint8)), "y_train (10,)"),
    BadFile("labels_2d", _with(y_train=np.zeros((150, 1), np.uint8)), "y_train (150, 1)"),
    BadFile("images_text", _with(x_train=np.full((150, 28, 28), "7")), "real numbers"),
    BadFile("images_complex", _with(x_train=np.ones((150, 28, 28), np.complex64)), "real numbers"),
    BadFile("images_nan", _with(x_train=_nan_pixel()), "NaN"),
    BadFile("pixels_above_255", _with(x_train=np.full((150, 28, 28), 300, np.int16)), "[0, 255]"),
    BadFile("labels_above_9", _with(y_train=np.arange(150) % 10 + 5), "0-9"),
    BadFile("labels_negative", _with(y_test=-np.ones(50, np.int64)), "0-9"),
    BadFile("labels_fractional", _with(y_train=np.arange(150) % 10 + 0.5), "0-9"),
    BadFile("object_array", _object_array, "allow_pickle=False"),
    BadFile(
        "no_images",
        _with(
            x_train=np.zeros((0, 28, 28), np.uint8),
            y_train=np.zeros(0, np.uint8),
            x_test=np.zeros((0, 28, 28), np.uint8),
            y_test=np.zeros(0, np.uint8),
        ),
        "no images",
    ),
    BadFile(  # 2 of each digit: valid, but a 30% test split would hold 6 digits, fewer than the 10 classes
        "too_few_digits",
        _with(
            x_train=np.zeros((20, 28, 28), np.uint8),
            y_train=np.arange(20) % 10,
            x_test=np.zeros((0, 28, 28), np.uint8),
            y_test=np.zeros(0, np.uint8),
        ),
        "'data.test_fraction'",
    ),
    BadFile("truncated", _truncated, "truncated"),
    BadFile("corrupted", _corrupted, "cannot be read"),
    BadFile("empty_file", lambda path: path.write_bytes(b""), "empty"),
    BadFile("text_file", lambda path: path.write_text("x_train,y_train\n1,2\n"), "not an .npz archive"),
    BadFile("npy_not_npz", _npy_not_npz, "not an .npz archive"),
    BadFile("zip_without_arrays", _zip_of_other_things, "missing array(s) x_train"),
    BadFile("zip_members_not_arrays", _members_not_arrays, "not a NumPy array"),
    BadFile("directory", lambda path: path.mkdir(), "not a file"),
]
