"""Train the digit classifier and measure its accuracy on each test group."""

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model_state_detection.classifier import accuracy, build_classifier, configure_tensorflow, train_classifier
from model_state_detection.io import atomic_path, read_sample_group, write_csv
from model_state_detection.logs import output_to_log

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(train_paths, test_paths, settings, seed, threads, model_path, history_path, accuracy_path, log_path):
    with output_to_log(log_path) as log:
        configure_tensorflow(seed, threads)
        train = [read_sample_group(path) for path in train_paths]
        if not settings["train_on_noisy"]:
            train = [group for group in train if not group.is_anomaly]
        images = np.concatenate([group.images for group in train])
        digits = np.concatenate([group.digits for group in train])
        log.info("training on %d images (%s)", len(digits), ", ".join(group.name for group in train))
        model = build_classifier(settings["hidden_units"], settings["learning_rate"])
        history = train_classifier(model, images, digits, settings["epochs"], settings["batch_size"], seed)
        rows = []
        for path in test_paths:
            group = read_sample_group(path)
            rows.append({"group": group.name, "n_samples": len(group.digits), "accuracy": accuracy(model, group.images, group.digits)})
        table = pd.DataFrame(rows)
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
