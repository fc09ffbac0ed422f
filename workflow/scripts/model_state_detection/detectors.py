"""Anomaly detectors with one interface: ``fit`` returns self, ``score_samples`` gives a
continuous anomaly score (higher = more anomalous), ``predict`` flags anomalies (True).
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.utils.class_weight import compute_class_weight


class IsolationForestDetector:
    """Unsupervised: scikit-learn's Isolation Forest; labels, if given, are ignored.

    The flagging threshold is set by ``contamination``: that share of the fitting samples
    falls above it.
    """

    def __init__(self, n_estimators=100, max_samples=10, contamination=0.005, random_state=0, n_jobs=1):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.contamination = contamination
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, features: np.ndarray, is_anomaly: np.ndarray | None = None) -> "IsolationForestDetector":
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(features)),
            contamination=self.contamination,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        ).fit(features)
        return self

    def score_samples(self, features: np.ndarray) -> np.ndarray:
        return -self.forest_.score_samples(features)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.forest_.predict(features) == -1

    def save(self, path: str | Path) -> None:
        joblib.dump(self, path)

    @staticmethod
    def load(path: str | Path) -> "IsolationForestDetector":
        """Load a detector this workflow saved (a pickle: only ever read files of your own run)."""
        return joblib.load(path)


class AnnDetector:
    """Supervised: a small Keras network trained to tell normal (0) from noisy (1) samples.

    Inputs are standardised by a Normalization layer adapted to the training features; the
    two classes are weighted to count equally whatever their sizes.
    """

    def __init__(self, hidden_units=(64,), epochs=10, batch_size=64, learning_rate=1e-3, threshold=0.5, random_state=0):
        self.hidden_units = tuple(hidden_units)
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.threshold = threshold
        self.random_state = random_state

    def fit(self, features: np.ndarray, is_anomaly: np.ndarray) -> "AnnDetector":
        import keras

        is_anomaly = np.asarray(is_anomaly, dtype=np.float32)
        classes = np.unique(is_anomaly)
        if len(classes) != 2:
            raise ValueError("the ANN detector needs both normal and anomalous training samples")
        weights = compute_class_weight("balanced", classes=classes, y=is_anomaly)
        normalization = keras.layers.Normalization(name="standardize")
        normalization.adapt(features)
        layers = [keras.Input(shape=(features.shape[1],), name="features"), normalization]
        layers += [keras.layers.Dense(units, activation="relu") for units in self.hidden_units]
        layers.append(keras.layers.Dense(1, activation="sigmoid", name="anomaly_probability"))
        self.model_ = keras.Sequential(layers, name="ann_anomaly_detector")
        self.model_.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="binary_crossentropy")
        order = np.random.default_rng(self.random_state).permutation(len(features))
        history = self.model_.fit(
            features[order],
            is_anomaly[order],
            epochs=self.epochs,
            batch_size=self.batch_size,
            class_weight={int(c): float(w) for c, w in zip(classes, weights)},
            shuffle=True,
            verbose=0,
        )
        self.history_ = history.history
        return self

    def score_samples(self, features: np.ndarray) -> np.ndarray:
        return self.model_.predict(features, batch_size=1024, verbose=0).ravel().astype(np.float64)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.score_samples(features) >= self.threshold

    def save(self, path: str | Path) -> None:
        self.model_.save(path)

    @classmethod
    def load(cls, path: str | Path, threshold: float = 0.5) -> "AnnDetector":
        import keras

        detector = cls(threshold=threshold)
        detector.model_ = keras.saving.load_model(path, safe_mode=True)
        return detector
