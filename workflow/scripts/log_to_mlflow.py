"""Log the finished workflow run to MLflow: a parent run, a child per detector x feature source, one
for the classifier. MLflow being down or failing does not fail the job: the receipt says "pending",
the reason is printed, and the next run of the workflow retries (see README, "Tracking runs in MLflow")."""

import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from model_state_detection import tracking
from model_state_detection.io import write_json
from model_state_detection.logs import output_to_log

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(config, settings, tracking_uri, attempt, repo, inputs, score_keys, receipt_path, log_path):
    shown_uri = tracking.describe_uri(tracking_uri)
    warning = None
    with output_to_log(log_path) as log, tempfile.TemporaryDirectory() as workdir:
        tracking.configure_http(settings["timeout"], settings["retries"])
        config_file = Path(workdir) / "config.yaml"
        config_file.write_text(yaml.safe_dump(config, sort_keys=False))
        record = tracking.build_record(
            config,
            metrics_csv=inputs.metrics,
            history_csv=inputs.history,
            accuracy_csv=inputs.accuracy,
            score_files=dict(zip(score_keys, inputs.scores)),
            feature_tables={Path(path).parts[-3]: path for path in inputs.features},
            parent_artifacts={Path(path).name: path for path in [inputs.metrics, inputs.metrics_json, *inputs.plots]},
            config_file=config_file,
            git=tracking.git_state(repo),
            workdir=workdir,
        )
        receipt = {
            "tracking_uri": shown_uri,
            "experiment": settings["experiment"],
            "fingerprint": record.fingerprint,
            "config_hash": record.parent.tags["config_hash"],
        }
        log.info("logging fingerprint %s to %s, experiment %r", record.fingerprint, shown_uri, settings["experiment"])
        try:
            with tracking.store_lock(tracking_uri):
                client = tracking.make_client(tracking.absolute_sqlite_uri(tracking_uri))
                experiment_id = tracking.get_or_create_experiment(
                    client,
                    settings["experiment"],
                    tracking.artifact_location_for(tracking_uri, tracking.DEFAULT_ARTIFACT_DIR),
                )
                outcome = tracking.log_workflow_record(client, experiment_id, record, log)
        except Exception as error:  # MLflow unreachable or failing: every result stays on disk
            log.exception("MLflow failed")
            receipt.update(
                status="pending",
                error=tracking.one_line(error),
                # a new value: the next run of the workflow sees the rule's params changed and retries
                trigger=f"retry-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}",
            )
            warning = (
                f"WARNING: this run was NOT logged to MLflow ({shown_uri}, experiment "
                f"{settings['experiment']!r}): {receipt['error']}\n"
                f"Every result is on disk under results/; details in {log_path}. Once MLflow is back, "
                "run the workflow again (snakemake --cores 1, or the target log_to_mlflow): it logs this "
                "run, once."
            )
        else:
            receipt.update(outcome, experiment_id=experiment_id, trigger=attempt)
            log.info("%s: parent run %s", outcome["status"], outcome["parent_run_id"])
        write_json(receipt, receipt_path)
    if warning:
        print(warning, file=sys.stderr, flush=True)


main(
    config=snakemake.params.config,
    settings=snakemake.params.settings,
    tracking_uri=snakemake.params.tracking_uri,
    attempt=snakemake.params.attempt,
    repo=snakemake.params.repo,
    inputs=snakemake.input,
    score_keys=snakemake.params.score_keys,
    receipt_path=snakemake.output.receipt,
    log_path=snakemake.log[0],
)
