"""Both detectors share one interface: fit returns self, higher scores mean more anomalous."""

import numpy as np
import pytest

from model_state_detection.detectors import AnnDetector, IsolationForestDetector
from model_state_detection.metrics import auroc


def blobs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    normal = rng.normal(0, 1, size=(n, 8)).astype(np.float32)
    anomalous = rng.normal(4, 1, size=(n, 8)).astype(np.float32)
    return normal, anomalous


def test_isolation_forest_interface_and_separation(tmp_path):
    normal, anomalous = blobs()
    detector = IsolationForestDetector(n_estimators=50, max_samples=64, contamination=0.05, random_state=0)
    assert detector.fit(normal) is detector
    assert auroc(detector.score_samples(normal), detector.score_samples(anomalous)) > 0.99
    # the threshold flags the contamination share of the fitting samples
    assert detector.predict(normal).mean() == pytest.approx(0.05, abs=0.01)
    assert detector.predict(anomalous).mean() > 0.9
    detector.save(tmp_path / "forest.joblib")
    loaded = IsolationForestDetector.load(tmp_path / "forest.joblib")
    np.testing.assert_array_equal(loaded.score_samples(anomalous), detector.score_samples(anomalous))


def test_isolation_forest_is_seeded():
    normal, anomalous = blobs()
    a = IsolationForestDetector(max_samples=10, random_state=3).fit(normal).score_samples(anomalous)
    b = IsolationForestDetector(max_samples=10, random_state=3).fit(normal).score_samples(anomalous)
    np.testing.assert_array_equal(a, b)


def test_isolation_forest_ignores_labels():
    normal, _ = blobs()
    a = IsolationForestDetector(random_state=1).fit(normal).score_samples(normal)
    b = IsolationForestDetector(random_state=1).fit(normal, np.ones(len(normal))).score_samples(normal)
    np.testing.assert_array_equal(a, b)


def test_ann_detector_learns_normal_vs_noisy_and_round_trips(tmp_path):
    from model_state_detection.classifier import configure_tensorflow

    configure_tensorflow(seed=0)
    normal, anomalous = blobs(200)
    features = np.concatenate([normal, anomalous[:50]])  # imbalanced: class weights must cope
    labels = np.r_[np.zeros(200), np.ones(50)]
    detector = AnnDetector(hidden_units=[8], epochs=20, random_state=0)
    assert detector.fit(features, labels) is detector
    test_normal, test_anomalous = blobs(100, seed=1)
    assert auroc(detector.score_samples(test_normal), detector.score_samples(test_anomalous)) > 0.99
    assert detector.predict(test_anomalous).mean() > 0.9 and detector.predict(test_normal).mean() < 0.1
    detector.save(tmp_path / "ann.keras")
    loaded = AnnDetector.load(tmp_path / "ann.keras")
    np.testing.assert_allclose(loaded.score_samples(test_anomalous), detector.score_samples(test_anomalous))


def test_ann_detector_needs_both_classes():
    normal, _ = blobs(50)
    with pytest.raises(ValueError, match="both normal and anomalous"):
        AnnDetector(epochs=1).fit(normal, np.zeros(len(normal)))
