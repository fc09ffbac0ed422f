# Both detectors fit on the training tables of one feature source and score only the
# held-out test tables: no sample that fitted a detector is used to score it.


rule fit_isolation_forest:
    input:
        train=forest_training_tables,
        test=lambda wildcards: feature_tables(wildcards.source, "test"),
    output:
        model="results/detectors/isolation_forest/{source}/model.joblib",
        scores="results/detectors/isolation_forest/{source}/test_scores.csv",
    log:
        "results/logs/fit_isolation_forest/{source}.log",
    benchmark:
        "results/benchmarks/fit_isolation_forest/{source}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 1200 * attempt,
        runtime=lambda wildcards, attempt: 5 * attempt,
    params:
        detector="isolation_forest",
        seed=config["seed"],
        settings=config["detectors"]["isolation_forest"],
    script:
        "../scripts/fit_detector.py"


rule fit_ann_detector:
    input:
        train=lambda wildcards: feature_tables(wildcards.source, "train"),
        test=lambda wildcards: feature_tables(wildcards.source, "test"),
    output:
        model="results/detectors/ann/{source}/model.keras",
        scores="results/detectors/ann/{source}/test_scores.csv",
    log:
        "results/logs/fit_ann_detector/{source}.log",
    benchmark:
        "results/benchmarks/fit_ann_detector/{source}.tsv"
    conda:
        "../../envs/tensorflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2500 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        tensorflow_threads=TENSORFLOW_THREADS,
        detector="ann",
        seed=config["seed"],
        settings=config["detectors"]["ann"],
    script:
        "../scripts/fit_detector.py"
