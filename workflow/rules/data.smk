rule make_datasets:
    output:
        groups=expand(
            "results/data/{split}/{dataset}.npz", split=SPLITS, dataset=DATASETS
        ),
    log:
        "results/logs/make_datasets.log",
    benchmark:
        "results/benchmarks/make_datasets.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 1500 * attempt,
        runtime=lambda wildcards, attempt: 5 * attempt,
    params:
        seed=config["seed"],
        data=config["data"],
        noise_types=config["noise_types"],
        output_keys=[(split, dataset) for split in SPLITS for dataset in DATASETS],
    script:
        "../scripts/make_datasets.py"
