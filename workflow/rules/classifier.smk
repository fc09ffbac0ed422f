rule train_classifier:
    input:
        train=expand("results/data/train/{dataset}.npz", dataset=DATASETS),
        test=expand("results/data/test/{dataset}.npz", dataset=DATASETS),
    output:
        model="results/classifier/model.keras",
        history="results/classifier/history.csv",
        accuracy="results/classifier/test_accuracy.csv",
    log:
        "results/logs/train_classifier.log",
    benchmark:
        "results/benchmarks/train_classifier.tsv"
    conda:
        "../../envs/tensorflow.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, attempt: 2500 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        seed=config["seed"],
        classifier=config["classifier"],
    script:
        "../scripts/train_classifier.py"
