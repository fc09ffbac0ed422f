"""Record the classifier's layer activations ("model state") and the pixels of one split as feature tables."""

from typing import TYPE_CHECKING

from model_state_detection.classifier import configure_tensorflow, load_classifier
from model_state_detection.io import read_sample_group, write_table
from model_state_detection.logs import output_to_log
from model_state_detection.pipeline import split_feature_tables

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(model_path, group_paths, sources, seed, threads, outputs, log_path):
    with output_to_log(log_path) as log:
        configure_tensorflow(seed, threads)
        model = load_classifier(model_path)
        groups = [read_sample_group(path) for path in group_paths]
        for source, name, table in split_feature_tables(model, groups, sources):
            write_table(table, outputs[source, name])
            log.info("%s/%s: %d rows", source, name, len(table))


main(
    model_path=snakemake.input.model,
    group_paths=snakemake.input.groups,
    sources=snakemake.params.sources,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    outputs={key: path for key, path in zip(snakemake.params.output_keys, snakemake.output)},
    log_path=snakemake.log[0],
)
