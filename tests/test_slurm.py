"""The workflow on a real SLURM cluster, through workflow/profiles/slurm.

A single-node cluster (tests/cluster/slurm-cluster.sh: Debian's slurmctld, slurmd and munge)
is started unless one is already running, and stopped again at the end if this module started
it. The tiny config runs through the profile with `--executor slurm`; the jobs must show up as
SLURM jobs (submission messages, per-job SLURM logs, squeue, slurmctld's log), and the results
must equal those of a local run with the same seed. Where SLURM is not installed the tests are
skipped, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO, TINY_CONFIG, run_workflow, write_config

pytestmark = pytest.mark.slurm

CLUSTER_SCRIPT = REPO / "tests/cluster/slurm-cluster.sh"
PROFILE = REPO / "workflow/profiles/slurm"
SLURM_TOOLS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "scancel", "scontrol", "sinfo")
# Without SLURM accounting sacct fails and the executor would wait forever: ask squeue (the test
# cluster keeps finished jobs visible for MinJobAge=300 s) and check the status soon.
CLUSTER_OPTIONS = (
    "--workflow-profile", str(PROFILE),
    "--executor", "slurm",
    "--slurm-status-command", "squeue",
    "--slurm-init-seconds-before-status-checks", "2",
    "--slurm-keep-successful-logs",
)  # fmt: skip
# Jobs of the tiny config that go through SLURM; the rest are localrules.
EXPECTED_CLUSTER_JOBS = Counter(
    make_datasets=1, train_classifier=1, fit_isolation_forest=3, fit_ann_detector=3
)
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")
RUN_TIMEOUT = 420


def unavailable(reason: str):
    """Skip where SLURM cannot run; in CI the test must run, so say so loudly there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"SLURM test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def cluster(command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), command], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.fixture(scope="module")
def slurm_env():
    """The environment for SLURM clients (SLURM_CONF); starts the cluster if it is not running."""
    missing = [tool for tool in SLURM_TOOLS if shutil.which(tool) is None]
    if missing:
        unavailable(
            f"{', '.join(missing)} not installed (apt-get install -y slurmctld slurmd slurm-client munge)"
        )
    if os.geteuid() != 0:
        unavailable("the test cluster's daemons must be started as root")
    name, value = cluster("env").stdout.strip().removeprefix("export ").split("=", 1)  # SLURM_CONF=...
    environment = {**os.environ, name: value}
    started = False
    if cluster("status", environment).returncode != 0:
        start = cluster("start", environment)
        assert start.returncode == 0, f"the SLURM test cluster did not start:\n{start.stdout}{start.stderr}"
        started = True
    yield environment
    if started:  # scancel every job, then stop the daemons by PID
        stop = cluster("stop", environment)
        assert stop.returncode == 0, f"the SLURM test cluster did not stop cleanly:\n{stop.stdout}{stop.stderr}"


def slurm_text(environment: dict, *command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, timeout=30, env=environment, check=True).stdout


def active_jobs(environment: dict) -> list[str]:
    output = slurm_text(environment, "squeue", "--noheader", "--format=%i %T", "--states=PENDING,RUNNING,COMPLETING")
    return output.split("\n")[:-1]


def run_on_cluster(workdir: Path, environment: dict, *targets: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        return run_workflow(
            workdir,
            *CLUSTER_OPTIONS,
            *targets,
            configfile=workdir / "config.yaml",
            env=environment,
            timeout=RUN_TIMEOUT,
            check=check,
        )
    except subprocess.TimeoutExpired as error:  # Snakemake was killed: the fixture's stop cancels its jobs
        output = error.stderr.decode() if isinstance(error.stderr, bytes) else error.stderr or ""
        squeue = slurm_text(environment, "squeue", "--states=all")
        message = f"the cluster run did not end within {RUN_TIMEOUT} s\nsqueue:\n{squeue}\n{output[-5000:]}"
        pytest.fail(message, pytrace=False)


def submissions(output: str) -> dict[str, Path]:
    """SLURM job id -> SLURM log file, from Snakemake's messages."""
    return {job_id: Path(log) for job_id, log in SUBMITTED.findall(output)}


def rule_of(slurm_log: Path) -> str:
    """The rule of a SLURM log: .snakemake/slurm_logs/rule_<rule>[/<wildcards>]/<jobid>.log."""
    return next(part.removeprefix("rule_") for part in slurm_log.parts if part.startswith("rule_"))


@pytest.fixture(scope="module")
def cluster_run(slurm_env, tmp_path_factory):
    """The tiny config, run on the cluster through the profile: (workdir, Snakemake's output)."""
    workdir = tmp_path_factory.mktemp("slurm_run")
    write_config(workdir, TINY_CONFIG)
    result = run_on_cluster(workdir, slurm_env)
    return workdir, result.stdout + result.stderr


def test_profile_is_used_and_jobs_run_as_slurm_jobs(cluster_run, slurm_env):
    workdir, output = cluster_run
    assert f"Using workflow specific profile {PROFILE}" in output
    jobs = submissions(output)
    assert Counter(rule_of(log) for log in jobs.values()) == EXPECTED_CLUSTER_JOBS
    # each job wrote its SLURM log (named by its job id), in which srun ran the rule's step
    for job_id, log in jobs.items():
        assert log.name == f"{job_id}.log" and log.is_relative_to(workdir / ".snakemake/slurm_logs")
        assert f"rule {rule_of(log)}:" in log.read_text(), log
    # SLURM itself knows them all as completed (squeue keeps finished jobs for MinJobAge=300 s)
    states = dict(
        line.split("|")
        for line in slurm_text(slurm_env, "squeue", "--noheader", "--states=all", "--format=%i|%T").split()
    )
    assert {states.get(job_id) for job_id in jobs} == {"COMPLETED"}
    # ... and so does the controller's log
    controller_log = (Path(slurm_env["SLURM_CONF"]).parent / "log/slurmctld.log").read_text()
    for job_id in jobs:
        assert f"_job_complete: JobId={job_id} done" in controller_log
    assert active_jobs(slurm_env) == []


def test_cluster_run_gives_the_same_results_as_a_local_run(cluster_run, request):
    workdir, _ = cluster_run
    tiny_run = request.getfixturevalue("tiny_run")  # the local run, only once SLURM has run

    def artifacts(root: Path) -> set[str]:
        # MLflow files are named by run ids, which differ between any two runs
        return {
            str(path.relative_to(root))
            for path in (root / "results").rglob("*")
            if path.is_file() and not {"logs", "benchmarks", "mlflow"} & set(path.relative_to(root).parts)
        }

    assert artifacts(workdir) == artifacts(tiny_run)
    # the MLflow logging job (a localrule) ran after the cluster jobs and logged the run
    receipt = json.loads((workdir / "results/mlflow/logged_run.json").read_text())
    local_receipt = json.loads((tiny_run / "results/mlflow/logged_run.json").read_text())
    assert receipt["status"] == "logged" and receipt["child_run_ids"].keys() == local_receipt["child_run_ids"].keys()
    assert {"results/metrics/detection_metrics.csv", "results/plots/auroc_heatmap.png"} <= artifacts(workdir)
    for name in (
        "metrics/detection_metrics.csv",
        "metrics/detection_metrics.json",
        "classifier/history.csv",
        "classifier/test_accuracy.csv",
    ):
        assert (workdir / "results" / name).read_text() == (tiny_run / "results" / name).read_text(), name


def test_a_failing_job_fails_the_cluster_run_with_a_clear_message(cluster_run, slurm_env, tmp_path):
    workdir = tmp_path / "failing"
    shutil.copytree(cluster_run[0], workdir, ignore=shutil.ignore_patterns("slurm_logs"))
    # a feature table that cannot be read: the pixel forest, which reads it, must fail
    (workdir / "results/activations/pixel/test/clean.csv").write_text("this is not a feature table\n")
    target = "results/detectors/isolation_forest/pixel/test_scores.csv"
    result = run_on_cluster(workdir, slurm_env, target, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-5000:]
    jobs = submissions(output)
    # the job ran in SLURM and was tried twice (the profile's retries: 1)
    assert Counter(rule_of(log) for log in jobs.values()) == {"fit_isolation_forest": 2}, output[-5000:]
    failed = re.findall(r"SLURM-job '(\d+)' failed, SLURM status is: 'FAILED'", output)
    assert set(failed) == set(jobs), output[-5000:]
    assert "Error in rule fit_isolation_forest:" in output
    # where to look: the rule's own log (with the traceback) and each job's SLURM log
    assert "results/logs/fit_isolation_forest/pixel.log" in output
    assert "Error" in (workdir / "results/logs/fit_isolation_forest/pixel.log").read_text()
    for log in jobs.values():
        assert str(log) in output and "Error in rule fit_isolation_forest" in log.read_text()
    assert "Exiting because a job execution failed" in output
    # the retry asked SLURM for twice the memory and time (the rules' resources grow with attempt)
    requests = slurm_text(
        slurm_env, "squeue", "--noheader", "--states=all", "--format=%i|%m|%l", f"--jobs={','.join(jobs)}"
    ).split()
    first, second = (line.split("|")[1:] for line in sorted(requests, key=lambda line: int(line.split("|")[0])))
    assert int(second[0].rstrip("M")) == 2 * int(first[0].rstrip("M"))
    assert minutes(second[1]) == 2 * minutes(first[1])
    # nothing is left in the queue, and the failed job left no output behind
    assert active_jobs(slurm_env) == []
    assert not (workdir / target).exists()


def minutes(time_limit: str) -> int:
    """squeue's time limit ([[days-]hours:]minutes:seconds) in whole minutes."""
    days, _, clock = time_limit.rpartition("-")
    seconds = 0
    for part in clock.split(":"):
        seconds = 60 * seconds + int(part)
    return (int(days or 0) * 86400 + seconds) // 60
