# One job trains the classifier and records its layer activations ("model state") for both
# splits: TensorFlow starts once (about 5 s per start) and the model never needs reloading.


rule train_classifier:
    input:
        train=expand("results/data/train/{dataset}.npz", dataset=DATASETS),
        test=expand("results/data/test/{dataset}.npz", dataset=DATASETS),
    output:
        model="results/classifier/model.keras",
        history="results/classifier/history.csv",
        accuracy="results/classifier/test_accuracy.csv",
        tables=expand(
            "results/activations/{source}/{split}/{dataset}.csv",
            source=FEATURE_SOURCES,
            split=SPLITS,
            dataset=DATASETS,
        ),
    log:
        "results/logs/train_classifier.log",
    benchmark:
        "results/benchmarks/train_classifier.tsv"
    conda:
        "../../envs/tensorflow.yaml"
    threads: TENSORFLOW_THREADS
    resources:
        mem_mb=lambda wildcards, attempt: 3000 * attempt,
        runtime=lambda wildcards, attempt: 20 * attempt,
    params:
        tensorflow_threads=TENSORFLOW_THREADS,
        seed=config["seed"],
        classifier=config["classifier"],
        sources=FEATURE_SOURCES,
        table_keys=[
            (source, split, dataset)
            for source in FEATURE_SOURCES
            for split in SPLITS
            for dataset in DATASETS
        ],
    script:
        "../scripts/train_classifier.py"
