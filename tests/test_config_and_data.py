"""What is checked before any job starts, in-process: every bad configuration and bad npz file of
the catalogue gets one message that names the key or the file; good ones pass with defaults."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from bad_inputs import BAD_CONFIGS, BAD_FILES, write_good_npz
from conftest import REPO, TINY_CONFIG
from model_state_detection.config import (
    ConfigError,
    check_config,
    check_split_sizes,
    load_schema,
    resolve_config,
)
from model_state_detection.data import DataError, load_npz

SCHEMA = load_schema(REPO / "workflow/schemas/config.schema.yaml")


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=[case.id for case in BAD_CONFIGS])
def test_bad_config_gets_one_line_naming_the_key(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative data paths resolve here, where no file exists
    with pytest.raises((ConfigError, DataError)) as raised:
        check_config(copy.deepcopy(case.config), SCHEMA)
    message = str(raised.value)
    assert case.names in message
    assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize("case", BAD_FILES, ids=[case.id for case in BAD_FILES])
def test_bad_npz_file_gets_one_line_naming_the_file(case, tmp_path):
    path = tmp_path / "digits.npz"
    case.write(path)
    with pytest.raises((ConfigError, DataError)) as raised:
        check_config({"data": {"source": "npz", "path": str(path)}}, SCHEMA)
    message = str(raised.value)
    assert case.says in message
    assert str(path) in message or "'data." in message
    assert "\n" not in message


def test_the_catalogue_is_large_enough():
    assert len(BAD_CONFIGS) >= 25
    assert len(BAD_FILES) >= 10


def test_default_config_and_tiny_config_are_valid():
    default = yaml.safe_load((REPO / "config/config.yaml").read_text())
    assert check_config(default, SCHEMA) == check_config({}, SCHEMA)  # the file repeats the schema's defaults
    resolved = check_config(copy.deepcopy(TINY_CONFIG), SCHEMA)
    assert resolved["detectors"]["isolation_forest"]["contamination"] == 0.005  # filled from the schema


def test_good_npz_file_loads_pooled_and_scaled(tmp_path):
    path = tmp_path / "digits.npz"
    write_good_npz(path)
    digits = load_npz(path)
    assert len(digits) == 200 and digits.images.shape == (200, 784)
    assert 0 <= digits.images.min() and digits.images.max() <= 1
    assert np.bincount(digits.labels).tolist() == [20] * 10
    resolved = check_config({"data": {"source": "npz", "path": str(path)}}, SCHEMA)
    assert resolved["data"]["path"] == str(path)


def test_an_npz_file_that_passed_is_read_again_only_once_it_changed(tmp_path, monkeypatch):
    import model_state_detection.data as data

    path = tmp_path / "digits.npz"
    write_good_npz(path)
    record = tmp_path / ".snakemake/checked.json"
    config = {"data": {"source": "npz", "path": str(path)}}
    first = check_config(copy.deepcopy(config), SCHEMA, record)
    reads = []
    monkeypatch.setattr(data, "load_npz", lambda file, read=data.load_npz: reads.append(file) or read(file))
    assert check_config(copy.deepcopy(config), SCHEMA, record) == first
    assert reads == []  # the same file: not read again
    path.write_bytes(b"not an npz archive")  # replaced by a bad file: read, and refused
    with pytest.raises(DataError, match="not an .npz archive"):
        check_config(copy.deepcopy(config), SCHEMA, record)
    with pytest.raises(DataError, match="not an .npz archive"):
        check_config(copy.deepcopy(config), SCHEMA, record)
    assert len(reads) == 2  # a file that failed is never taken as checked
    write_good_npz(path)
    assert check_config(copy.deepcopy(config), SCHEMA, record) == first
    assert len(reads) == 3


@pytest.mark.parametrize(
    ("n_digits", "data", "n_noise_types", "names"),
    [
        (5000, {"test_fraction": 0.001, "max_digits": None}, 4, "'data.test_fraction'"),  # 5 test digits < 10 classes
        (5000, {"test_fraction": 0.999, "max_digits": None}, 4, "'data.test_fraction'"),  # 5 training digits
        (5000, {"test_fraction": 0.3, "max_digits": 4995}, 4, "'data.max_digits'"),  # leaves 5 out, not one per digit
        (100, {"test_fraction": 0.05, "max_digits": None}, 4, "'data.test_fraction'"),
        (1000, {"test_fraction": 0.02, "max_digits": None}, 30, "'data.test_fraction'"),  # 20 test digits, 31 groups
    ],
)
def test_split_sizes_refused_when_a_split_cannot_be_made(n_digits, data, n_noise_types, names):
    config = {"data": data, "noise_types": [{}] * n_noise_types}
    with pytest.raises(ConfigError, match=names):
        check_split_sizes(config, n_digits)


def test_split_sizes_accepted_at_the_edge():
    config = {"data": {"test_fraction": 0.01, "max_digits": None}, "noise_types": [{}] * 4}
    check_split_sizes(config, 1000)  # 10 test digits: one per class
    check_split_sizes({"data": {"test_fraction": 0.5, "max_digits": 4990}, "noise_types": [{}]}, 5000)
    check_split_sizes({"data": {"test_fraction": 0.5, "max_digits": 6000}, "noise_types": [{}]}, 5000)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "'seed' is null; expected a whole number"), (True, "'seed' is true; expected a whole number")],
)
def test_values_are_shown_as_yaml_writes_them(value, shown):
    with pytest.raises(ConfigError) as raised:
        resolve_config({"seed": value}, SCHEMA)
    assert str(raised.value) == shown


def test_an_empty_list_is_called_empty():
    with pytest.raises(ConfigError) as raised:
        resolve_config({"noise_types": []}, SCHEMA)
    assert str(raised.value) == "'noise_types' is an empty list; it must list at least 1 item"
