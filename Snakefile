# Can a network's own internal state reveal that an input is anomalous?
# MNIST digits -> noisy copies -> digit classifier -> layer activations ("model state")
# -> Isolation Forest and ANN anomaly detectors per feature source -> metrics and plots.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/classifier.smk"
include: "workflow/rules/detectors.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/tracking.smk"


rule all:
    default_target: True
    input:
        "results/metrics/detection_metrics.csv",
        "results/metrics/detection_metrics.json",
        "results/plots/detection_rates.png",
        "results/plots/auroc_heatmap.png",
        expand("results/plots/score_distributions_{detector}.png", detector=DETECTORS),
        # the MLflow receipt (results/mlflow/logged_run.json), unless mlflow.enabled is false
        MLFLOW_RECEIPT if config["mlflow"]["enabled"] else [],
