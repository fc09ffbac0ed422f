"""The workflow's whole computation in one Python process, in memory (the benchmark's lower bound).

    python benchmarks/one_process.py [--configfile my.yaml] [--threads 2] [--out DIR]

Resolves the configuration exactly as the workflow does (config/config.yaml, then the keys of
``--configfile``, then the schema's defaults), runs ``run_in_one_process`` and writes the metrics
table, the classifier's test accuracy and the plots to ``--out`` with the workflow's own writers,
so the files can be compared byte for byte with the workflow's. Prints the time of each step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

START = time.perf_counter()
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

import yaml  # noqa: E402

from model_state_detection.config import load_schema, resolve_config  # noqa: E402


def merged(base: dict, override: dict) -> dict:
    """``base`` updated by ``override``, nested mappings key by key (as Snakemake merges --configfile)."""
    result = dict(base)
    for key, value in override.items():
        result[key] = merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


def resolved_config(configfile: str | None) -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    if configfile:
        config = merged(config, yaml.safe_load(Path(configfile).read_text()) or {})
    return resolve_config(config, load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"))


def main(configfile: str | None, threads: int, out: Path) -> None:
    from model_state_detection.io import write_csv
    from model_state_detection.pipeline import run_in_one_process

    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {"imports": time.perf_counter() - START}
    result = run_in_one_process(resolved_config(configfile), threads=threads, plot_dir=out / "plots", timings=timings)
    write_csv(result["metrics"], out / "detection_metrics.csv")
    write_csv(result["classifier_accuracy"], out / "test_accuracy.csv")
    timings["total"] = time.perf_counter() - START
    for step, seconds in timings.items():
        print(f"step\t{step}\t{seconds:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "output" / "one_process")
    arguments = parser.parse_args()
    main(arguments.configfile, arguments.threads, arguments.out)
