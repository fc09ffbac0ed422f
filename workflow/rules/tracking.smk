# MLflow: log_to_mlflow, the only job that talks to MLflow, logs a finished run as a parent run
# with a child per detector x feature source and one for the classifier. Being the only one, it
# also creates the experiment (get-or-create, safe against another workflow doing the same at
# the same time: mlflow#4123), so parallel jobs never race on it. MLflow down or failing does
# not fail the workflow: the receipt says "pending" and the next run retries (receipt_trigger).
from model_state_detection.tracking import receipt_trigger, resolve_tracking_uri

MLFLOW_TRACKING_URI = resolve_tracking_uri(config["mlflow"]["tracking_uri"])
MLFLOW_RECEIPT = "results/mlflow/logged_run.json"


localrules:
    log_to_mlflow,


rule log_to_mlflow:
    input:
        metrics="results/metrics/detection_metrics.csv",
        metrics_json="results/metrics/detection_metrics.json",
        history="results/classifier/history.csv",
        accuracy="results/classifier/test_accuracy.csv",
        scores=expand(
            "results/detectors/{detector}/{source}/test_scores.csv",
            detector=DETECTORS,
            source=FEATURE_SOURCES,
        ),
        features=expand(
            "results/activations/{source}/test/clean.csv", source=FEATURE_SOURCES
        ),
        plots=[
            "results/plots/detection_rates.png",
            "results/plots/auroc_heatmap.png",
            *expand(
                "results/plots/score_distributions_{detector}.png", detector=DETECTORS
            ),
        ],
    output:
        receipt="results/mlflow/logged_run.json",
    log:
        "results/logs/log_to_mlflow.log",
    conda:
        "../../envs/tracking.yaml"
    params:
        config=config,
        settings=config["mlflow"],
        tracking_uri=MLFLOW_TRACKING_URI,
        attempt=receipt_trigger(MLFLOW_RECEIPT),
        repo=workflow.basedir,
        score_keys=[
            (source, detector) for detector in DETECTORS for source in FEATURE_SOURCES
        ],
    script:
        "../scripts/log_to_mlflow.py"
