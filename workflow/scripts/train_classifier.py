"""Train the digit classifier, measure its accuracy on each test group, and record its layer
activations ("model state") and the pixels of every group of both splits as feature tables."""

from typing import TYPE_CHECKING

from model_state_detection.classifier import configure_tensorflow
from model_state_detection.io import atomic_path, read_sample_group, write_csv, write_table
from model_state_detection.logs import output_to_log
from model_state_detection.pipeline import fit_classifier, split_feature_tables

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(
    train_paths, test_paths, settings, sources, seed, tensorflow_threads, threads,
    model_path, history_path, accuracy_path, tables, log_path,
):  # fmt: skip
    with output_to_log(log_path) as log:
        configure_tensorflow(seed, tensorflow_threads)
        splits = {
            "train": [read_sample_group(path) for path in train_paths],
            "test": [read_sample_group(path) for path in test_paths],
        }
        log.info("training on %s", ", ".join(g.name for g in splits["train"] if settings["train_on_noisy"] or not g.is_anomaly))
        model, history, table = fit_classifier(splits["train"], splits["test"], settings, seed)
        log.info("test accuracy:\n%s", table.to_string(index=False))
        with atomic_path(model_path) as temporary:
            model.save(temporary)
        write_csv(history, history_path)
        write_csv(table, accuracy_path)
        for split, groups in splits.items():
            for source, name, features in split_feature_tables(model, groups, sources):
                write_table(features, tables[source, split, name], threads)
                log.info("activations %s/%s/%s: %d rows", source, split, name, len(features))


main(
    train_paths=snakemake.input.train,
    test_paths=snakemake.input.test,
    settings=snakemake.params.classifier,
    sources=snakemake.params.sources,
    seed=snakemake.params.seed,
    tensorflow_threads=snakemake.params.tensorflow_threads,  # the declared count (see common.smk)
    threads=snakemake.threads,  # for writing the tables
    model_path=snakemake.output.model,
    history_path=snakemake.output.history,
    accuracy_path=snakemake.output.accuracy,
    tables=dict(zip(snakemake.params.table_keys, snakemake.output.tables)),
    log_path=snakemake.log[0],
)
