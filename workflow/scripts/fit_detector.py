"""Fit one anomaly detector on one feature source's training tables; score the test tables."""

from typing import TYPE_CHECKING

from model_state_detection.io import atomic_path, read_feature_tables, write_csv
from model_state_detection.logs import output_to_log
from model_state_detection.pipeline import fit_and_score

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(detector_name, train_paths, test_paths, settings, seed, threads, model_path, scores_path, log_path):
    with output_to_log(log_path) as log:
        train = read_feature_tables(train_paths)
        test = read_feature_tables(test_paths)
        log.info("fitting %s on %d training tables (%d rows)", detector_name, len(train_paths), len(train))
        detector, scores = fit_and_score(detector_name, settings, seed, threads, train, test)
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
    # TensorFlow's results depend on its pool size: the rule's declared count (see common.smk)
    threads=snakemake.params.get("tensorflow_threads", snakemake.threads),
    model_path=snakemake.output.model,
    scores_path=snakemake.output.scores,
    log_path=snakemake.log[0],
)
