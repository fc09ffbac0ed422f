"""The steps of the workflow as functions of in-memory data, shared by the rule scripts and by
``run_in_one_process``, which does the whole computation in one Python process (the
benchmark's lower bound for what the workflow costs).

TensorFlow is imported inside the functions that need it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from .config import DETECTORS, PIXEL_SOURCE, dataset_names
from .data import SampleGroup, make_datasets
from .io import feature_columns, feature_table
from .metrics import detection_metrics


def fit_classifier(train: list[SampleGroup], test: list[SampleGroup], settings: dict, seed: int):
    """Train the digit classifier on the training groups; returns (model, history, accuracy table).

    With ``train_on_noisy`` false only the clean training group is used. The accuracy table
    has one row per test group. Call ``configure_tensorflow`` first.
    """
    from .classifier import accuracy, build_classifier, train_classifier

    if not settings["train_on_noisy"]:
        train = [group for group in train if not group.is_anomaly]
    images = np.concatenate([group.images for group in train])
    digits = np.concatenate([group.digits for group in train])
    model = build_classifier(settings["hidden_units"], settings["learning_rate"])
    history = train_classifier(model, images, digits, settings["epochs"], settings["batch_size"], seed)
    table = pd.DataFrame(
        [
            {"group": group.name, "n_samples": len(group.digits), "accuracy": accuracy(model, group.images, group.digits)}
            for group in test
        ]
    )
    return model, history, table


def split_feature_tables(model, groups: list[SampleGroup], sources: list[str]):
    """Yield ``(source, group name, feature table)`` for every group of one split and every source."""
    from .classifier import activation_model, layer_activations

    layers = [source for source in sources if source != PIXEL_SOURCE]
    reader = activation_model(model, layers) if layers else None
    for group in groups:
        features = layer_activations(model, layers, group.images, reader)
        features[PIXEL_SOURCE] = group.images
        for source in sources:
            yield source, group.name, feature_table(features[source], source, group)


def make_detector(detector: str, settings: dict, seed: int, threads: int = 1):
    """A fresh detector from its config section (``fit_on`` is not a detector parameter)."""
    from .detectors import AnnDetector, IsolationForestDetector

    if detector == "isolation_forest":
        parameters = {key: value for key, value in settings.items() if key != "fit_on"}
        return IsolationForestDetector(**parameters, random_state=seed, n_jobs=threads)
    if detector == "ann":
        from .classifier import configure_tensorflow

        configure_tensorflow(seed, threads)
        return AnnDetector(**settings, random_state=seed)
    raise ValueError(f"unknown detector {detector!r}; allowed: {', '.join(DETECTORS)}")


def fit_and_score(detector_name: str, settings: dict, seed: int, threads: int, train: pd.DataFrame, test: pd.DataFrame):
    """Fit a detector on the training feature table, score the test table; returns (detector, scores).

    ``scores`` has the label columns of ``test`` and ``score`` (higher = more anomalous) and
    ``flagged`` (bool).
    """
    if settings.get("fit_on") == "clean":
        train = train[~train["is_anomaly"]]
    columns = feature_columns(train)
    detector = make_detector(detector_name, settings, seed, threads)
    detector.fit(train[columns].to_numpy(), train["is_anomaly"].to_numpy())
    features = test[columns].to_numpy()
    scores = test[["noise_type", "digit", "is_anomaly"]].copy()
    scores["score"] = detector.score_samples(features)
    scores["flagged"] = detector.predict(features)
    return detector, scores


def run_in_one_process(
    config: dict, threads: int = 1, plot_dir: str | Path | None = None, timings: dict | None = None
) -> dict:
    """The workflow's whole computation in this process, in memory: same data, noise, classifier,
    feature tables, detectors and metrics; nothing is written but the plots (if ``plot_dir``).

    ``config`` is a resolved configuration. TensorFlow runs with ``threads`` threads for every
    step (its thread pools are fixed for the life of a process). Returns a dict of tables:
    ``metrics``, ``classifier_accuracy``, ``history`` and ``scores`` (per (source, detector)).
    ``timings``, if given, receives the seconds each step took (keys named like the rules).
    """
    from .classifier import configure_tensorflow

    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = timings.get(step, 0.0) + now - clock
        clock = now

    datasets = make_datasets(config)
    lap("make_datasets")
    configure_tensorflow(config["seed"], threads)
    model, history, accuracy_table = fit_classifier(
        datasets["train"], datasets["test"], config["classifier"], config["seed"]
    )
    lap("train_classifier")
    sources = config["feature_sources"]
    tables = {
        split: {(source, name): table for source, name, table in split_feature_tables(model, groups, sources)}
        for split, groups in datasets.items()
    }
    lap("extract_activations")
    groups = dataset_names(config)
    scores = {}
    for detector in DETECTORS:
        for source in sources:
            train, test = (
                pd.concat([tables[split][source, name] for name in groups], ignore_index=True)
                for split in ("train", "test")
            )
            _, scores[source, detector] = fit_and_score(
                detector, config["detectors"][detector], config["seed"], threads, train, test
            )
            lap("fit_isolation_forest" if detector == "isolation_forest" else "fit_ann_detector")
    metrics = detection_metrics(scores, groups)
    lap("evaluate_detectors")
    if plot_dir is not None:
        from . import plots

        plot_dir = Path(plot_dir)
        plots.plot_detection_rates(metrics, plot_dir / "detection_rates.png")
        plots.plot_auroc_heatmap(metrics, plot_dir / "auroc_heatmap.png")
        for detector in DETECTORS:
            frame = pd.concat(
                [scores[source, detector].assign(feature_source=source) for source in sources], ignore_index=True
            )
            plots.plot_score_distributions(frame, detector, plot_dir / f"score_distributions_{detector}.png")
        lap("plots")
    return {"metrics": metrics, "classifier_accuracy": accuracy_table, "history": history, "scores": scores}

