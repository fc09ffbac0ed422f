"""Train the digit classifier and measure its accuracy on each test group."""

from typing import TYPE_CHECKING

from model_state_detection.classifier import configure_tensorflow
from model_state_detection.io import atomic_path, read_sample_group, write_csv
from model_state_detection.logs import output_to_log
from model_state_detection.pipeline import fit_classifier

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(train_paths, test_paths, settings, seed, threads, model_path, history_path, accuracy_path, log_path):
    with output_to_log(log_path) as log:
        configure_tensorflow(seed, threads)
        train = [read_sample_group(path) for path in train_paths]
        test = [read_sample_group(path) for path in test_paths]
        log.info("training on %s", ", ".join(group.name for group in train if settings["train_on_noisy"] or not group.is_anomaly))
        model, history, table = fit_classifier(train, test, settings, seed)
        log.info("test accuracy:\n%s", table.to_string(index=False))
        with atomic_path(model_path) as temporary:
            model.save(temporary)
        write_csv(history, history_path)
        write_csv(table, accuracy_path)


main(
    train_paths=snakemake.input.train,
    test_paths=snakemake.input.test,
    settings=snakemake.params.classifier,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    model_path=snakemake.output.model,
    history_path=snakemake.output.history,
    accuracy_path=snakemake.output.accuracy,
    log_path=snakemake.log[0],
)
