"""Interrupted runs resume to identical results; a second run on the same directory is refused.

Each interruption point starts from a copy of the uninterrupted tiny run (``tiny_run``) without
the outputs of the interrupted job and of everything downstream: the state a run is in when it
reaches that job, so the run has to redo all of it. The run is interrupted mid-job (SIGKILL to
the job during training, during activation export, during an ANN detector fit; SIGINT and
SIGKILL to Snakemake itself), then resumed with the command the README documents, and every
table (data, activations, scores, metrics) must be byte-for-byte that of the uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

from conftest import FIGURES, run_workflow, snakemake_command, snakemake_environment

pytestmark = [pytest.mark.workflow, pytest.mark.interruption]

# The documented resume command (README, "Reliability"), and what to run first after Snakemake
# itself was killed and left its lock behind.
RESUME = ("--rerun-incomplete",)
UNLOCK = ("--unlock",)
LOCK_MESSAGE = "Directory cannot be locked"

# What is missing when a run reaches each interruption point (paths under results/).
BEFORE_TRAINING = ("classifier", "activations", "detectors", "metrics", "plots")
BEFORE_TEST_EXPORT = ("activations/pixel/test", "activations/dense/test", "activations/dense_1/test")
BEFORE_TEST_EXPORT += ("detectors", "metrics", "plots")
BEFORE_LAST_FIT = ("detectors/ann/dense", "metrics", "plots")

TRIED: list[str] = []
RESUMED_IDENTICALLY: list[str] = []


def tables(workdir: Path) -> dict[str, bytes]:
    """Every deterministic artifact: the data groups, feature tables, scores, metrics."""
    results = workdir / "results"
    return {
        str(path.relative_to(results)): path.read_bytes()
        for pattern in ("data/**/*.npz", "classifier/*.csv", "activations/**/*.csv", "detectors/**/*.csv", "metrics/*")
        for path in sorted(results.glob(pattern))
    }


def run_without(tiny_run: Path, workdir: Path, missing: tuple[str, ...]) -> Path:
    """A copy of the finished tiny run without the ``missing`` outputs (and without its logs)."""
    shutil.copytree(tiny_run / ".snakemake", workdir / ".snakemake", symlinks=True)
    shutil.copytree(tiny_run / "results", workdir / "results", ignore=shutil.ignore_patterns("logs", "benchmarks"))
    for path in missing:
        shutil.rmtree(workdir / "results" / path)
    shutil.copy(tiny_run / "config.yaml", workdir / "config.yaml")
    return workdir / "config.yaml"


def start(workdir: Path, *args: str, configfile: Path, cores: int = 2) -> subprocess.Popen:
    """Snakemake in the background, in its own session (like a terminal's job), output to a file."""
    output = open(workdir / f"snakemake-{time.monotonic_ns()}.out", "w")
    process = subprocess.Popen(
        snakemake_command(workdir, *args, configfile=configfile, cores=cores),
        stdout=output,
        stderr=subprocess.STDOUT,
        env=snakemake_environment(),
        start_new_session=True,
    )
    process.output_path = Path(output.name)
    output.close()
    return process


def output_of(process: subprocess.Popen) -> str:
    return process.output_path.read_text()


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process on this machine."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        table[int(entry.name)] = (int(stat[stat.rindex(")") + 2 :].split()[1]), command)
    return table


def job_processes(snakemake: subprocess.Popen, script: str) -> list[int]:
    """The running jobs of ``snakemake`` (its descendants) that execute ``script``."""
    table = _processes()
    found = []
    for pid, (_, command) in table.items():
        ancestor = pid
        while ancestor in table and ancestor != snakemake.pid and ancestor > 1:
            ancestor = table[ancestor][0]
        if ancestor == snakemake.pid and pid != snakemake.pid and script in command:
            found.append(pid)
    return found


def wait_until(condition: Callable[[], object], what: str, process: subprocess.Popen, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"snakemake ended before {what}:\n{output_of(process)[-3000:]}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def log_says(path: Path, text: str) -> Callable[[], bool]:
    return lambda: path.is_file() and text in path.read_text(errors="replace")


def holds_open(pid: int, path: Path) -> bool:
    try:
        return any(Path(f"/proc/{pid}/fd/{fd}").resolve() == path.resolve() for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def running_job(snakemake: subprocess.Popen, script: str, log: Path, marker: str) -> int:
    """Wait until the job running ``script`` with log ``log`` has logged ``marker``; return its pid.

    A job holds its log open while it runs: that tells it from other jobs of the same script.
    """

    def job():
        if log_says(log, marker)():
            return [pid for pid in job_processes(snakemake, script) if holds_open(pid, log)]

    return wait_until(job, f"{script} to log {marker!r} to {log.name}", snakemake)[0]


def finish(process: subprocess.Popen, timeout: float = 300) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


def resume_and_compare(workdir: Path, configfile: Path, reference: dict[str, bytes], point: str, rules: list[str]):
    """Run the documented resume command; every table must equal the uninterrupted run's."""
    resumed = run_workflow(workdir, *RESUME, configfile=configfile)
    compare(workdir, resumed.stdout + resumed.stderr, reference, point, rules)


def compare(workdir: Path, output: str, reference: dict[str, bytes], point: str, rules: list[str]):
    """The resume reran ``rules`` and left every table as in the uninterrupted run, and no temporary file."""
    for rule in rules:
        assert f"rule {rule}:" in output, f"{point}: the resume did not rerun {rule}"
    produced = tables(workdir)
    assert produced.keys() == reference.keys(), f"{point}: {sorted(set(reference) ^ set(produced))}"
    different = [name for name in reference if produced[name] != reference[name]]
    assert not different, f"{point}: resumed to different {different}"
    leftovers = [str(path) for path in (workdir / "results").rglob("*.partial-*")]
    assert not leftovers, f"{point}: temporary files left behind: {leftovers}"
    RESUMED_IDENTICALLY.append(point)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"  # a zombie has ended


def wait_for_exit(pids: list[int], timeout: float = 120) -> list[int]:
    """Wait for processes that are not our children; returns those still alive at the timeout."""
    deadline = time.monotonic() + timeout
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


@pytest.fixture(scope="module")
def reference(tiny_run):
    yield tables(tiny_run)
    if TRIED:
        FIGURES.append(
            f"interruption points: {len(TRIED)} tried, {len(RESUMED_IDENTICALLY)} resumed to results identical to "
            f"the uninterrupted run ({', '.join(TRIED)})"
        )


def test_training_killed_on_one_core_resumes_identically_and_a_second_run_is_refused(tiny_run, reference, tmp_path):
    """SIGKILL to the training job of a ``--cores 1`` run; a second invocation beside the resume.

    The result must equal the uninterrupted ``--cores 2`` run: resuming, running a second
    invocation on the same directory and the number of cores all leave it unchanged.
    """
    point = "SIGKILL to the job during training"
    TRIED.append(point)
    configfile = run_without(tiny_run, tmp_path, BEFORE_TRAINING)
    log = tmp_path / "results/logs/train_classifier.log"
    first = start(tmp_path, configfile=configfile, cores=1)
    os.kill(running_job(first, "train_classifier.py", log, "Epoch 3/"), signal.SIGKILL)
    assert finish(first) != 0
    assert "Error in rule train_classifier" in output_of(first)

    resume = start(tmp_path, *RESUME, configfile=configfile, cores=1)
    running_job(resume, "train_classifier.py", log, "Epoch 1/")
    # the same command again: the running job's outputs are marked incomplete, so Snakemake refuses
    second = run_workflow(tmp_path, configfile=configfile, check=False)
    assert second.returncode != 0, second.stdout + second.stderr
    assert "IncompleteFilesException" in second.stderr or LOCK_MESSAGE in second.stderr, second.stderr[-3000:]
    # the resume command, which would rerun incomplete outputs: the lock refuses it
    third = run_workflow(tmp_path, *RESUME, configfile=configfile, check=False)
    assert third.returncode != 0 and LOCK_MESSAGE in third.stderr, third.stderr[-3000:]
    assert finish(resume) == 0, output_of(resume)[-3000:]
    compare(
        tmp_path,
        output_of(resume),
        reference,
        point,
        ["train_classifier", "fit_ann_detector", "evaluate_detectors"],
    )


@pytest.mark.parametrize(
    ("point", "missing", "script", "log", "marker", "rules"),
    [
        (
            "SIGKILL to the job during activation export",
            BEFORE_TEST_EXPORT,
            "train_classifier.py",  # the training job also writes the activation tables
            "train_classifier.log",
            "activations ",  # the first table written
            ["train_classifier", "fit_isolation_forest", "evaluate_detectors"],
        ),
        (
            "SIGKILL to the job during an ANN detector fit",
            BEFORE_LAST_FIT,
            "fit_detector.py",
            "fit_ann_detector/dense.log",
            "fitting ann",
            ["fit_ann_detector", "evaluate_detectors"],
        ),
    ],
    ids=["activation-export", "detector-fit"],
)
def test_sigkill_to_a_job_then_resume_gives_identical_results(
    tiny_run, reference, tmp_path, point, missing, script, log, marker, rules
):
    TRIED.append(point)
    configfile = run_without(tiny_run, tmp_path, missing)
    snakemake = start(tmp_path, configfile=configfile)
    os.kill(running_job(snakemake, script, tmp_path / "results/logs" / log, marker), signal.SIGKILL)
    assert finish(snakemake) != 0
    # the job was killed before it finished; Snakemake removed its outputs, none can pass for finished
    assert "Error in rule" in output_of(snakemake), output_of(snakemake)[-3000:]
    resume_and_compare(tmp_path, configfile, reference, point, rules)


def during_the_last_fit(tiny_run: Path, workdir: Path) -> tuple[Path, subprocess.Popen, list[int]]:
    """A run started before the last detector fit, once that fit runs: (config, Snakemake, its jobs)."""
    configfile = run_without(tiny_run, workdir, BEFORE_LAST_FIT)
    snakemake = start(workdir, configfile=configfile)
    running_job(snakemake, "fit_detector.py", workdir / "results/logs/fit_ann_detector/dense.log", "fitting ann")
    return configfile, snakemake, job_processes(snakemake, "fit_detector.py")


def test_sigint_to_snakemake_then_resume_gives_identical_results(tiny_run, reference, tmp_path):
    point = "SIGINT to Snakemake during a detector fit"
    TRIED.append(point)
    configfile, snakemake, jobs = during_the_last_fit(tiny_run, tmp_path)
    snakemake.send_signal(signal.SIGINT)
    assert finish(snakemake) != 0
    assert not wait_for_exit(jobs, timeout=30)  # Snakemake stopped its jobs
    resume_and_compare(tmp_path, configfile, reference, point, ["fit_ann_detector", "evaluate_detectors"])


def test_sigkill_to_snakemake_then_unlock_and_resume_gives_identical_results(tiny_run, reference, tmp_path):
    point = "SIGKILL to Snakemake during a detector fit"
    TRIED.append(point)
    configfile, snakemake, orphans = during_the_last_fit(tiny_run, tmp_path)
    snakemake.kill()
    snakemake.wait(timeout=30)
    # The killed Snakemake left its lock: the resume command refuses until --unlock, as the README says.
    refused = run_workflow(tmp_path, *RESUME, configfile=configfile, check=False)
    assert refused.returncode != 0 and LOCK_MESSAGE in refused.stderr, refused.stderr[-3000:]
    assert "--unlock" in refused.stderr
    run_workflow(tmp_path, *UNLOCK, configfile=configfile)
    # The killed Snakemake's jobs go on as orphans; resuming right away, beside them, must still
    # give identical results, also once the orphans have written their (atomic) outputs.
    resume_and_compare(tmp_path, configfile, reference, point, ["fit_ann_detector", "evaluate_detectors"])
    left = wait_for_exit(orphans)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "jobs of the killed Snakemake did not end"
    assert tables(tmp_path) == reference
