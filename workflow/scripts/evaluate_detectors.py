"""Turn every detector's test scores into the tidy metrics table (CSV and JSON)."""

from typing import TYPE_CHECKING

import pandas as pd

from model_state_detection.io import write_csv, write_json
from model_state_detection.logs import output_to_log
from model_state_detection.metrics import detection_metrics, records_without_nan

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(score_paths, keys, groups, accuracy_path, csv_path, json_path, log_path):
    with output_to_log(log_path) as log:
        tables = {key: pd.read_csv(path) for key, path in zip(keys, score_paths)}
        metrics = detection_metrics(tables, groups)
        log.info("detection metrics:\n%s", metrics.to_string(index=False))
        write_csv(metrics, csv_path)
        classifier = pd.read_csv(accuracy_path)
        write_json(
            {"detection": records_without_nan(metrics), "classifier_test_accuracy": records_without_nan(classifier)},
            json_path,
        )


main(
    score_paths=snakemake.input.scores,
    keys=snakemake.params.output_keys,
    groups=snakemake.params.groups,
    accuracy_path=snakemake.input.classifier_accuracy,
    csv_path=snakemake.output.csv,
    json_path=snakemake.output.json,
    log_path=snakemake.log[0],
)
