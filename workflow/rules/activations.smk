rule extract_activations:
    input:
        model="results/classifier/model.keras",
        groups=expand("results/data/{{split}}/{dataset}.npz", dataset=DATASETS),
    output:
        tables=expand(
            "results/activations/{source}/{{split}}/{dataset}.csv",
            source=FEATURE_SOURCES,
            dataset=DATASETS,
        ),
    log:
        "results/logs/extract_activations/{split}.log",
    benchmark:
        "results/benchmarks/extract_activations/{split}.tsv"
    conda:
        "../../envs/tensorflow.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 1200 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        seed=config["seed"],
        sources=FEATURE_SOURCES,
        output_keys=[
            (source, dataset) for source in FEATURE_SOURCES for dataset in DATASETS
        ],
    script:
        "../scripts/extract_activations.py"
