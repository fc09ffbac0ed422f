"""The whole workflow, run through Snakemake's CLI on a tiny config; every artifact is checked."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import TINY_CONFIG, run_workflow, write_config

pytestmark = pytest.mark.workflow

SOURCES = TINY_CONFIG["feature_sources"]
GROUPS = ["clean", "zero", "saturated"]
N_DIGITS = TINY_CONFIG["data"]["max_digits"]


def test_sample_groups_are_disjoint_labelled_and_sized(tiny_run):
    sizes = {}
    for split in ("train", "test"):
        for group in GROUPS:
            with np.load(tiny_run / f"results/data/{split}/{group}.npz") as archive:
                images, digits = archive["images"], archive["digits"]
                assert str(archive["name"]) == group
            assert images.shape == (len(digits), 784) and images.dtype == np.float32
            assert 0.0 <= images.min() and images.max() <= 1.0
            assert set(np.unique(digits)) <= set(range(10))
            sizes[split, group] = len(digits)
    # 900 digits, half held out, each split dealt into 3 near-equal groups.
    assert sum(sizes.values()) == N_DIGITS
    assert sum(sizes["test", group] for group in GROUPS) == 450
    assert all(size == 150 for size in sizes.values())
    # the rate-0 group is untouched; the saturated one has (almost) no pixel left at its clean value
    with np.load(tiny_run / "results/data/test/saturated.npz") as archive:
        assert np.mean(np.isin(archive["images"], [0.0])) < 0.01


def test_activation_tables_have_one_column_per_neuron_and_labels(tiny_run):
    widths = {"pixel": 784, "dense": 32, "dense_1": 16}
    for source in SOURCES:
        for split in ("train", "test"):
            for group in GROUPS:
                table = pd.read_csv(tiny_run / f"results/activations/{source}/{split}/{group}.csv")
                features = [c for c in table.columns if c not in ("digit", "noise_type", "is_anomaly")]
                assert features == [f"{source}_{i}" for i in range(widths[source])]
                assert len(table) == 150
                assert set(table["noise_type"]) == {group}
                assert table["is_anomaly"].tolist() == [group != "clean"] * 150
                if source != "pixel":  # relu activations
                    assert (table[features].to_numpy() >= 0).all()
        # the pixel table holds exactly the images of the dataset file
        pixels = pd.read_csv(tiny_run / "results/activations/pixel/test/clean.csv")
        with np.load(tiny_run / "results/data/test/clean.npz") as archive:
            np.testing.assert_array_equal(pixels.filter(like="pixel_").to_numpy(np.float32), archive["images"])
            np.testing.assert_array_equal(pixels["digit"], archive["digits"])


def test_classifier_model_history_and_accuracy(tiny_run):
    import keras

    model = keras.saving.load_model(tiny_run / "results/classifier/model.keras", safe_mode=True)
    assert [layer.name for layer in model.layers] == ["dense", "dense_1", "dense_2"]
    history = pd.read_csv(tiny_run / "results/classifier/history.csv")
    assert history["epoch"].tolist() == list(range(1, 21))
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.columns)
    accuracy = pd.read_csv(tiny_run / "results/classifier/test_accuracy.csv").set_index("group")
    assert accuracy.index.tolist() == GROUPS
    assert accuracy.loc["clean", "accuracy"] > 0.5  # well above the 0.1 of guessing
    assert accuracy.loc["saturated", "accuracy"] < 0.35  # random pixels carry no digit


def test_detector_models_and_test_scores(tiny_run):
    for detector, suffix in (("isolation_forest", "joblib"), ("ann", "keras")):
        for source in SOURCES:
            assert (tiny_run / f"results/detectors/{detector}/{source}/model.{suffix}").stat().st_size > 0
            scores = pd.read_csv(tiny_run / f"results/detectors/{detector}/{source}/test_scores.csv")
            # scored on the held-out test split only: 150 samples per group
            assert scores["noise_type"].value_counts().to_dict() == {group: 150 for group in GROUPS}
            assert scores["flagged"].dtype == bool and np.isfinite(scores["score"]).all()


def test_metrics_table_matches_scores_and_known_properties(tiny_run):
    metrics = pd.read_csv(tiny_run / "results/metrics/detection_metrics.csv")
    assert len(metrics) == len(SOURCES) * 2 * len(GROUPS)
    for column in ("flagged_rate", "tnr", "fpr", "tpr", "fnr", "auroc"):
        values = metrics[column].dropna()
        assert ((values >= 0) & (values <= 1)).all(), column
    # rates recomputed from a score file by hand
    scores = pd.read_csv(tiny_run / "results/detectors/ann/dense/test_scores.csv")
    row = metrics.query("detector == 'ann' and feature_source == 'dense' and group == 'clean'").iloc[0]
    assert row["fpr"] == pytest.approx(scores.loc[scores["noise_type"] == "clean", "flagged"].mean())
    assert row["tnr"] == pytest.approx(1 - row["fpr"])
    noisy = metrics[metrics["group"] != "clean"].set_index(["detector", "feature_source", "group"])
    for detector in ("isolation_forest", "ann"):
        for source in SOURCES:
            # a noise rate of 0 leaves the digits clean: no detector can beat chance
            assert 0.4 <= noisy.loc[(detector, source, "zero"), "auroc"] <= 0.6, (detector, source)
            # a saturated noise is trivially anomalous in pixel space; in a layer's activations it is
            # still far above chance (measured 0.85-1.0: an Isolation Forest of 10-sample trees
            # cannot split on relu units that are dead on every clean digit, where noise shows)
            expected = 0.95 if source == "pixel" else 0.75
            assert noisy.loc[(detector, source, "saturated"), "auroc"] > expected, (detector, source)
    document = json.loads((tiny_run / "results/metrics/detection_metrics.json").read_text())
    assert len(document["detection"]) == len(metrics)
    assert document["detection"][0]["auroc"] is None  # clean rows have no AUROC
    assert [row["group"] for row in document["classifier_test_accuracy"]] == GROUPS


def test_plots_are_png_images(tiny_run):
    import matplotlib.image

    for name in ("detection_rates", "auroc_heatmap", "score_distributions_ann", "score_distributions_isolation_forest"):
        image = matplotlib.image.imread(tiny_run / f"results/plots/{name}.png")
        assert image.shape[0] > 200 and image.shape[1] > 400
        assert image[..., :3].std() > 0.05  # not a blank canvas


def test_every_job_wrote_its_log_and_heavy_jobs_a_benchmark(tiny_run):
    assert (tiny_run / "results/logs/train_classifier.log").read_text().count("Epoch") >= 3
    benchmark = pd.read_csv(tiny_run / "results/benchmarks/train_classifier.tsv", sep="\t")
    assert benchmark["s"].iloc[0] > 0


def test_nothing_changed_means_nothing_to_do(tiny_run):
    result = run_workflow(tiny_run, "--dry-run", configfile=tiny_run / "config.yaml")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_changing_an_isolation_forest_parameter_reruns_only_what_depends_on_it(tiny_run, tmp_path):
    config = {**TINY_CONFIG, "detectors": {**TINY_CONFIG["detectors"], "isolation_forest": {"n_estimators": 60}}}
    result = run_workflow(tiny_run, "--dry-run", "--quiet", "rules", configfile=write_config(tmp_path, config))
    rules = {line.split()[0] for line in result.stdout.splitlines()[2:] if line.strip() and not line.startswith("total")}
    assert "fit_isolation_forest" in rules
    assert not rules & {"make_datasets", "train_classifier", "fit_ann_detector"}


def test_same_config_and_seed_give_identical_metrics(tiny_run, tmp_path):
    run_workflow(tmp_path, "results/metrics/detection_metrics.csv", configfile=write_config(tmp_path, TINY_CONFIG))
    first = (tiny_run / "results/metrics/detection_metrics.csv").read_text()
    assert (tmp_path / "results/metrics/detection_metrics.csv").read_text() == first
