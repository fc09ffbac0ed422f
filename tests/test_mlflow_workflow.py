"""Runs of the workflow logged to MLflow: the default SQLite store under results/, a real
``mlflow server`` on 127.0.0.1, the server down and back, and two workflows sharing one store.

The server tests work on copies of the shared tiny run (mtimes and Snakemake's metadata kept):
pointing MLFLOW_TRACKING_URI elsewhere changes only the logging rule's params, so only it re-runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO, TINY_CONFIG, run_workflow, write_config

pytestmark = pytest.mark.workflow

EXPERIMENT = "model-state-anomaly-detection"
SOURCES = TINY_CONFIG["feature_sources"]
DETECTORS = ("isolation_forest", "ann")
GROUPS = ["clean", "zero", "saturated"]
FEATURE_DIMS = {"pixel": "784", "dense": "32", "dense_1": "16"}
PARENT_ARTIFACTS = {
    "config.yaml",
    "detection_metrics.csv",
    "detection_metrics.json",
    "detection_rates.png",
    "auroc_heatmap.png",
    "score_distributions_isolation_forest.png",
    "score_distributions_ann.png",
}
MLFLOW = str(Path(sys.executable).with_name("mlflow"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(directory: Path, port: int | None = None):
    """A real ``mlflow server`` on 127.0.0.1 with a SQLite backend in ``directory``; yields its URI."""
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    command = [
        MLFLOW, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{directory / 'mlflow.db'}",
        "--artifacts-destination", str(directory / "artifacts"),
    ]  # fmt: skip
    with open(directory / "server.log", "ab") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"mlflow server did not start:\n{(directory / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield uri
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)  # the server and its workers: the group we started
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def copy_run(tiny_run: Path, destination: Path) -> Path:
    shutil.copytree(tiny_run, destination, symlinks=True)
    return destination


def result_checksums(workdir: Path) -> dict[str, str]:
    """Every result file but the MLflow receipt/store and the logs."""
    return {
        str(path.relative_to(workdir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((workdir / "results").rglob("*"))
        if path.is_file() and path.parts[len(workdir.parts) + 1] not in ("mlflow", "logs")
    }


def client_for(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def runs_of(client) -> list:
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return list(client.search_runs([experiment.experiment_id])) if experiment else []


def parents_of(client) -> list:
    return [run for run in runs_of(client) if run.data.tags.get("run_kind") == "workflow"]


def receipt(workdir: Path) -> dict:
    return yaml.safe_load((workdir / "results/mlflow/logged_run.json").read_text())


def jobs_run(result) -> list[str]:
    lines = (result.stdout + result.stderr).splitlines()
    jobs = [line.split()[1].rstrip(":") for line in lines if line.startswith(("rule ", "localrule "))]
    return [job for job in jobs if job != "all"]


def check_complete_set(client, workdir: Path, parent, config: dict) -> None:
    """The parent and all children exist with the documented tags, params, metrics and artifacts,
    and every value equals the workflow's own files."""
    assert parent.info.status == "FINISHED"
    tags = parent.data.tags
    git = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    commit = git.stdout.strip()
    assert tags["git_commit"] == commit == tags["mlflow.source.git.commit"]
    assert tags["git_dirty"] in ("true", "false")
    assert tags["data_source"] == config["data"]["source"] and tags["seed"] == str(config["seed"])
    assert len(tags["config_hash"]) == 12 and tags["n_children"] == "7"
    assert parent.data.params["noise.saturated.rate"] == "1.0"
    assert parent.data.params["detectors.isolation_forest.n_estimators"] == str(
        config["detectors"]["isolation_forest"]["n_estimators"]
    )
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == PARENT_ARTIFACTS
    def download(run, name) -> Path:
        return Path(client.download_artifacts(run.info.run_id, name, str(workdir / "dl")))

    assert download(parent, "detection_metrics.csv").read_bytes() == (
        workdir / "results/metrics/detection_metrics.csv"
    ).read_bytes()
    logged_config = yaml.safe_load(download(parent, "config.yaml").read_text())
    assert logged_config["seed"] == config["seed"]
    for detector, settings in config["detectors"].items():
        assert settings.items() <= logged_config["detectors"][detector].items()
    assert logged_config["mlflow"]["enabled"] is True  # the full resolved config, defaults included

    children = [run for run in runs_of(client) if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(run.info.run_name for run in children) == sorted(
        ["classifier"] + [f"{detector} {source}" for detector in DETECTORS for source in SOURCES]
    )
    metrics = pd.read_csv(workdir / "results/metrics/detection_metrics.csv")
    expected_keys = {f"{m}.clean" for m in ("n_samples", "n_flagged", "flagged_rate", "tnr", "fpr")}
    for group in ("zero", "saturated"):
        expected_keys |= {f"{m}.{group}" for m in ("n_samples", "n_flagged", "flagged_rate", "tpr", "fnr", "auroc")}
    for child in children:
        assert child.info.status == "FINISHED"
        if child.info.run_name == "classifier":
            continue
        detector, source = child.info.run_name.split()
        params = child.data.params
        assert params["detector"] == detector and params["feature_source"] == source
        assert params["layer"] == ("none" if source == "pixel" else source)
        assert params["feature_dim"] == FEATURE_DIMS[source]
        for key, value in config["detectors"][detector].items():
            assert params[f"detector.{key}"] == str(value).replace(" ", "")  # lists as [16]
        assert params["data.source"] == "mnist5k" and params["noise.zero.kind"] == "uniform"
        # one naming scheme for every detector child: several can be compared on one chart
        assert set(child.data.metrics) == expected_keys
        rows = metrics[(metrics["feature_source"] == source) & (metrics["detector"] == detector)].set_index("group")
        for key, value in child.data.metrics.items():
            column, group = key.split(".")
            assert value == pytest.approx(rows.loc[group, column], abs=1e-12), (child.info.run_name, key)
        own_rows = pd.read_csv(download(child, "metrics.csv"))
        pd.testing.assert_frame_equal(own_rows.set_index("group"), rows, check_dtype=False)

    classifier = next(run for run in children if run.info.run_name == "classifier")
    history = pd.read_csv(workdir / "results/classifier/history.csv")
    for column in ("loss", "accuracy", "val_loss", "val_accuracy"):
        logged = client.get_metric_history(classifier.info.run_id, column)
        logged = sorted(logged, key=lambda m: m.step)
        assert [m.step for m in logged] == history["epoch"].tolist()
        assert [m.value for m in logged] == pytest.approx(history[column].tolist())
    accuracy = pd.read_csv(workdir / "results/classifier/test_accuracy.csv")
    for row in accuracy.itertuples():
        assert classifier.data.metrics[f"test_accuracy.{row.group}"] == pytest.approx(row.accuracy)
    assert classifier.data.params["classifier.hidden_units"] == "[32,16]"
    assert {a.path for a in client.list_artifacts(classifier.info.run_id)} == {"history.csv", "test_accuracy.csv"}


def test_default_store_is_a_sqlite_file_under_results(tiny_run):
    client = client_for(f"sqlite:///{tiny_run / 'results/mlflow/mlflow.db'}")
    (parent,) = parents_of(client)
    assert receipt(tiny_run)["status"] == "logged" and receipt(tiny_run)["parent_run_id"] == parent.info.run_id
    check_complete_set(client, tiny_run, parent, TINY_CONFIG)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment.artifact_location == (tiny_run / "results/mlflow/artifacts").resolve().as_uri()


def test_tracking_server_gets_each_run_once_complete(tiny_run, tmp_path):
    workdir = copy_run(tiny_run, tmp_path / "run")
    config_file = workdir / "config.yaml"
    with mlflow_server(tmp_path / "server") as uri:
        env = {"MLFLOW_TRACKING_URI": uri}
        result = run_workflow(workdir, configfile=config_file, env=env)
        assert jobs_run(result) == ["log_to_mlflow"]  # a new tracking URI re-runs only the logging
        client = client_for(uri)
        (parent,) = parents_of(client)
        assert len(runs_of(client)) == 8
        check_complete_set(client, workdir, parent, TINY_CONFIG)
        assert receipt(workdir)["tracking_uri"] == uri and receipt(workdir)["status"] == "logged"

        # nothing changed: nothing to do; forcing the logging rule logs nothing new either
        result = run_workflow(workdir, configfile=config_file, env=env)
        assert "Nothing to be done" in result.stdout + result.stderr
        run_workflow(workdir, "--forcerun", "log_to_mlflow", configfile=config_file, env=env)
        assert receipt(workdir)["status"] == "already_logged"
        assert receipt(workdir)["parent_run_id"] == parent.info.run_id and len(runs_of(client)) == 8

        # a change (4 cores: parallel jobs, one store): one new complete parent with all its children
        changed = {**TINY_CONFIG, "detectors": {**TINY_CONFIG["detectors"], "isolation_forest": {"n_estimators": 60}}}
        result = run_workflow(workdir, configfile=write_config(tmp_path, changed, "changed.yaml"), env=env, cores=4)
        assert "fit_isolation_forest" in jobs_run(result) and "database is locked" not in result.stderr
        parents = parents_of(client)
        assert len(parents) == 2 and len(runs_of(client)) == 16
        new = next(run for run in parents if run.info.run_id != parent.info.run_id)
        assert new.data.tags["config_hash"] != parent.data.tags["config_hash"]
        check_complete_set(client, workdir, new, changed)


def test_mlflow_down_the_workflow_completes_and_logs_once_when_it_is_back(tiny_run, tmp_path):
    workdir = copy_run(tiny_run, tmp_path / "run")
    config_file = workdir / "config.yaml"
    before = result_checksums(workdir)
    port = free_port()
    env = {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"}  # nothing listens there

    started = time.monotonic()
    result = run_workflow(workdir, configfile=config_file, env=env)  # exits 0
    elapsed = time.monotonic() - started
    message = result.stderr
    assert f"WARNING: this run was NOT logged to MLflow (http://127.0.0.1:{port}" in message
    assert "Every result is on disk" in message and "Connection refused" in message
    assert "Traceback" not in message
    assert elapsed < 120, elapsed  # bounded retries, not MLflow's default of minutes
    pending = receipt(workdir)
    assert pending["status"] == "pending" and pending["trigger"].startswith("retry-")
    assert result_checksums(workdir) == before  # every result intact
    assert "Connection refused" in (workdir / "results/logs/log_to_mlflow.log").read_text()
    # the next run knows the logging is pending
    dry = run_workflow(workdir, "--dry-run", configfile=config_file, env=env)
    assert "log_to_mlflow" in dry.stdout and "Params have changed" in dry.stdout + dry.stderr

    with mlflow_server(tmp_path / "server", port=port) as uri:
        result = run_workflow(workdir, configfile=config_file, env=env)
        assert jobs_run(result) == ["log_to_mlflow"]
        client = client_for(uri)
        (parent,) = parents_of(client)
        assert len(runs_of(client)) == 8
        check_complete_set(client, workdir, parent, TINY_CONFIG)
        assert receipt(workdir)["status"] == "logged"
        result = run_workflow(workdir, configfile=config_file, env=env)
        assert "Nothing to be done" in result.stdout + result.stderr
        assert len(runs_of(client)) == 8
    assert result_checksums(workdir) == before


class _FailingMlflow(http.server.BaseHTTPRequestHandler):
    """A tracking server that is up but failing: every request gets HTTP 503."""

    def _fail(self):
        body = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "database is down"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _fail

    def log_message(self, *args):
        pass


def test_mlflow_failing_leaves_the_run_pending_and_says_why(tiny_run, tmp_path):
    workdir = copy_run(tiny_run, tmp_path / "run")
    server = http.server.HTTPServer(("127.0.0.1", 0), _FailingMlflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"http://127.0.0.1:{server.server_address[1]}"
        result = run_workflow(workdir, configfile=workdir / "config.yaml", env={"MLFLOW_TRACKING_URI": uri})
    finally:
        server.shutdown()
        server.server_close()
    assert f"NOT logged to MLflow ({uri}, experiment '{EXPERIMENT}'): the server kept answering HTTP 503" in result.stderr
    assert receipt(workdir)["status"] == "pending"


def test_two_workflows_finishing_together_share_one_sqlite_store(tiny_run, tmp_path):
    """No "database is locked": writers to one SQLite file take turns; identical results: one set."""
    store = f"sqlite:///{tmp_path / 'shared' / 'mlflow.db'}"
    (tmp_path / "shared").mkdir()
    workdirs = [copy_run(tiny_run, tmp_path / name) for name in ("a", "b")]
    command = lambda workdir: [  # noqa: E731
        str(Path(sys.executable).with_name("snakemake")), "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--cores", "2", "--configfile", str(workdir / "config.yaml"),
    ]  # fmt: skip
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    environment["MLFLOW_TRACKING_URI"] = store
    processes = [
        subprocess.Popen(command(w), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment)
        for w in workdirs
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert not any("database is locked" in output or "NOT logged" in output for output in outputs), outputs
    assert sorted(receipt(w)["status"] for w in workdirs) == ["already_logged", "logged"]
    client = client_for(store)
    assert len(parents_of(client)) == 1 and len(runs_of(client)) == 8


def test_mlflow_disabled_means_no_logging_job(tmp_path):
    config = {**TINY_CONFIG, "mlflow": {"enabled": False}}
    result = run_workflow(tmp_path, "--dry-run", configfile=write_config(tmp_path, config))
    assert "train_classifier" in result.stdout and "log_to_mlflow" not in result.stdout


def test_a_bad_mlflow_value_is_named_in_one_line(tmp_path):
    config = {**TINY_CONFIG, "mlflow": {"retries": -1}}
    result = run_workflow(tmp_path, "--dry-run", configfile=write_config(tmp_path, config), check=False)
    assert result.returncode != 0
    assert "invalid configuration: 'mlflow.retries' is -1; it must be at least 0" in result.stderr
    assert "Traceback" not in result.stderr
