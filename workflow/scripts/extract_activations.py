"""Record the classifier's layer activations ("model state") and the pixels of one split as feature tables."""

from typing import TYPE_CHECKING

from model_state_detection.classifier import configure_tensorflow, layer_activations, load_classifier
from model_state_detection.config import PIXEL_SOURCE
from model_state_detection.io import feature_table, read_sample_group, write_table
from model_state_detection.logs import output_to_log

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(model_path, group_paths, sources, seed, threads, outputs, log_path):
    with output_to_log(log_path) as log:
        configure_tensorflow(seed, threads)
        model = load_classifier(model_path)
        layers = [source for source in sources if source != PIXEL_SOURCE]
        for path in group_paths:
            group = read_sample_group(path)
            features = layer_activations(model, layers, group.images)
            features[PIXEL_SOURCE] = group.images
            for source in sources:
                write_table(feature_table(features[source], source, group), outputs[source, group.name])
                log.info("%s/%s: %s", source, group.name, features[source].shape)


main(
    model_path=snakemake.input.model,
    group_paths=snakemake.input.groups,
    sources=snakemake.params.sources,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    outputs={key: path for key, path in zip(snakemake.params.output_keys, snakemake.output)},
    log_path=snakemake.log[0],
)
