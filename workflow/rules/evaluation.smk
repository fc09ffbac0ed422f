localrules:
    evaluate_detectors,
    plot_detection_rates,
    plot_auroc_heatmap,
    plot_score_distributions,


rule evaluate_detectors:
    input:
        scores=expand(
            "results/detectors/{detector}/{source}/test_scores.csv",
            detector=DETECTORS,
            source=FEATURE_SOURCES,
        ),
        classifier_accuracy="results/classifier/test_accuracy.csv",
    output:
        csv=report(
            "results/metrics/detection_metrics.csv",
            caption="../report/detection_metrics.rst",
            category="Metrics",
        ),
        json="results/metrics/detection_metrics.json",
    log:
        "results/logs/evaluate_detectors.log",
    benchmark:
        "results/benchmarks/evaluate_detectors.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        output_keys=[
            (source, detector) for detector in DETECTORS for source in FEATURE_SOURCES
        ],
        groups=DATASETS,
    script:
        "../scripts/evaluate_detectors.py"


rule plot_detection_rates:
    input:
        "results/metrics/detection_metrics.csv",
    output:
        report(
            "results/plots/detection_rates.png",
            caption="../report/detection_rates.rst",
            category="Plots",
        ),
    log:
        "results/logs/plot_detection_rates.log",
    benchmark:
        "results/benchmarks/plot_detection_rates.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        figure="detection_rates",
    script:
        "../scripts/plot_results.py"


rule plot_auroc_heatmap:
    input:
        "results/metrics/detection_metrics.csv",
    output:
        report(
            "results/plots/auroc_heatmap.png",
            caption="../report/auroc_heatmap.rst",
            category="Plots",
        ),
    log:
        "results/logs/plot_auroc_heatmap.log",
    benchmark:
        "results/benchmarks/plot_auroc_heatmap.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        figure="auroc_heatmap",
    script:
        "../scripts/plot_results.py"


rule plot_score_distributions:
    input:
        expand(
            "results/detectors/{{detector}}/{source}/test_scores.csv",
            source=FEATURE_SOURCES,
        ),
    output:
        report(
            "results/plots/score_distributions_{detector}.png",
            caption="../report/score_distributions.rst",
            category="Plots",
        ),
    log:
        "results/logs/plot_score_distributions/{detector}.log",
    benchmark:
        "results/benchmarks/plot_score_distributions/{detector}.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        figure="score_distributions",
        detector="{detector}",
        output_keys=FEATURE_SOURCES,
    script:
        "../scripts/plot_results.py"
