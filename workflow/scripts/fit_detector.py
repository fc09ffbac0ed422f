"""Fit one anomaly detector on one feature source's training tables; score the test tables."""

from typing import TYPE_CHECKING

import numpy as np

from model_state_detection.detectors import AnnDetector, IsolationForestDetector
from model_state_detection.io import atomic_path, feature_columns, read_feature_tables, write_csv
from model_state_detection.logs import output_to_log

if TYPE_CHECKING:
    from snakemake.script import snakemake


def make_detector(detector: str, settings: dict, seed: int, threads: int):
    if detector == "isolation_forest":
        parameters = {key: value for key, value in settings.items() if key != "fit_on"}
        return IsolationForestDetector(**parameters, random_state=seed, n_jobs=threads)
    from model_state_detection.classifier import configure_tensorflow

    configure_tensorflow(seed, threads)
    return AnnDetector(**settings, random_state=seed)


def main(detector_name, train_paths, test_paths, settings, seed, threads, model_path, scores_path, log_path):
    with output_to_log(log_path) as log:
        train = read_feature_tables(train_paths)
        if settings.get("fit_on") == "clean":
            train = train[~train["is_anomaly"]]
        columns = feature_columns(train)
        log.info("fitting %s on %d training samples x %d features", detector_name, len(train), len(columns))
        detector = make_detector(detector_name, settings, seed, threads)
        detector.fit(train[columns].to_numpy(), train["is_anomaly"].to_numpy())
        test = read_feature_tables(test_paths)
        features = test[columns].to_numpy()
        scores = test[["noise_type", "digit", "is_anomaly"]].copy()
        scores["score"] = detector.score_samples(features)
        scores["flagged"] = detector.predict(features)
        log.info("flagged share per test group:\n%s", scores.groupby("noise_type", sort=False)["flagged"].mean())
        with atomic_path(model_path) as temporary:
            detector.save(temporary)
        write_csv(scores, scores_path)


main(
    detector_name=snakemake.params.detector,
    train_paths=snakemake.input.train,
    test_paths=snakemake.input.test,
    settings=snakemake.params.settings,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    model_path=snakemake.output.model,
    scores_path=snakemake.output.scores,
    log_path=snakemake.log[0],
)
