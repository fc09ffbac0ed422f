"""Log one workflow run to MLflow: a parent run with a child per detector x feature source and one
for the classifier, complete or not at all, and never twice.

What one workflow run is, for MLflow, is its *fingerprint*: the hash of the resolved experiment
configuration and of the bytes of its result files. A parent run carries it as the tag
``fingerprint``; a set is complete when its parent is FINISHED (the parent is created RUNNING and
finished only after every child and artifact is in). So

* a fingerprint that already has a FINISHED parent is not logged again (re-running with nothing
  changed, or retrying after an outage in which the set did get through, logs nothing new);
* parents of the same fingerprint that are not FINISHED are left-overs of an interrupted attempt:
  they and their children are deleted before the set is logged afresh.

The building of what to log (:func:`build_record`) is pure and reads only files; MLflow is
imported inside the functions that talk to it, so the rest of the library never pays for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from .config import PIXEL_SOURCE, config_hash

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_TRACKING_URI = "sqlite:///results/mlflow/mlflow.db"
DEFAULT_ARTIFACT_DIR = "results/mlflow/artifacts"
RUN_KIND_TAG = "run_kind"
FINGERPRINT_TAG = "fingerprint"
# A parent's tag that says how many children a complete set has.
N_CHILDREN_TAG = "n_children"
_BATCH = {"metrics": 1000, "params": 100}  # MLflow's log_batch limits per request


class TrackingUnavailable(RuntimeError):
    """MLflow cannot take the run as configured (e.g. its experiment is deleted); the message says what to do."""


# ---------------------------------------------------------------------------------------------
# Where to log
# ---------------------------------------------------------------------------------------------


def resolve_tracking_uri(configured: str | None, environ: dict[str, str] | None = None) -> str:
    """The config key if set, else ``MLFLOW_TRACKING_URI``, else the SQLite file under ``results/``."""
    if configured:
        return configured
    from_env = (environ if environ is not None else os.environ).get("MLFLOW_TRACKING_URI", "").strip()
    return from_env or DEFAULT_TRACKING_URI


def receipt_trigger(receipt_path: str | Path) -> str:
    """The ``trigger`` of the last receipt, a param of the logging rule, read when the workflow is parsed.

    A failed attempt writes a fresh trigger into its (pending) receipt, so on the next run this
    param differs from the one Snakemake recorded with the receipt and the rule re-runs (rerun
    trigger "params"). A successful attempt writes back the value it ran with, so nothing re-runs
    after it. No receipt (or an unreadable one): ``first``.
    """
    try:
        with open(receipt_path, encoding="utf-8") as handle:
            return str(json.load(handle).get("trigger", "first"))
    except (OSError, ValueError, AttributeError):
        return "first"


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (relative paths stay relative), else None."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return Path(tracking_uri[len("sqlite:///") :])


def describe_uri(tracking_uri: str) -> str:
    """The URI without any ``user:password@`` part, for messages and logs."""
    scheme, sep, rest = tracking_uri.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


# ---------------------------------------------------------------------------------------------
# What to log (pure: files and dicts in, a record out)
# ---------------------------------------------------------------------------------------------


@dataclass
class RunRecord:
    """One MLflow run to be: its name, tags, params, metrics (``(key, value, step)``) and artifacts."""

    name: str
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[tuple[str, float, int]] = field(default_factory=list)
    artifacts: dict[str, Path] = field(default_factory=dict)  # artifact file name -> local file


@dataclass
class WorkflowRecord:
    """A complete set: the parent and its children, and the fingerprint that identifies it."""

    fingerprint: str
    parent: RunRecord
    children: list[RunRecord]


def experiment_config(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration that defines the results: everything but where they are logged."""
    return {key: value for key, value in config.items() if key != "mlflow"}


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def results_fingerprint(config: dict[str, Any], result_files: dict[str, str | Path]) -> str:
    """Hash of the experiment configuration and of the bytes of every result file (by name)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(experiment_config(config), sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(result_files):
        digest.update(f"\n{name}\0{file_digest(result_files[name])}".encode())
    return digest.hexdigest()[:16]


def _param_value(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return "null" if value is None else str(value)


def flatten_params(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config as MLflow params: ``data.source``, ``classifier.hidden_units`` = ``[128,64]``.

    The noise types become ``noise.<name>.kind`` and ``noise.<name>.rate``.
    """
    params: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if key == "noise_types" and not prefix:
            for noise in value:
                params[f"noise.{noise['name']}.kind"] = noise["kind"]
                params[f"noise.{noise['name']}.rate"] = _param_value(noise["rate"])
        elif isinstance(value, dict):
            params.update(flatten_params(value, f"{name}."))
        else:
            params[name] = _param_value(value)
    return params


def detector_metrics(rows: pd.DataFrame) -> dict[str, float]:
    """The metrics of one detector on one feature source, named ``<column>.<group>``.

    ``rows`` are that detector's rows of the metrics table (one per test group). Every defined
    value becomes a metric: ``tpr.type1``, ``fnr.type1``, ``auroc.type1`` for a noise type,
    ``fpr.clean``, ``tnr.clean`` for the clean group, and ``flagged_rate``, ``n_flagged``,
    ``n_samples`` for every group. Undefined (empty) cells are left out.
    """
    from .metrics import METRIC_COLUMNS

    metrics = {}
    for row in rows.to_dict(orient="records"):
        for column in METRIC_COLUMNS:
            value = row[column]
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                metrics[f"{column}.{row['group']}"] = float(value)
    return metrics


def feature_dimension(table_path: str | Path) -> int:
    """Number of feature columns of a feature table (all but the label columns)."""
    from .io import LABEL_COLUMNS, read_header

    return sum(1 for column in read_header(table_path) if column not in LABEL_COLUMNS)


def git_state(directory: str | Path) -> dict[str, str]:
    """The commit checked out in ``directory`` and whether tracked or untracked files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": "unknown", "git_dirty": "unknown"}
    return {"git_commit": commit, "git_dirty": str(dirty).lower()}


def build_record(
    config: dict[str, Any],
    *,
    metrics_csv: str | Path,
    history_csv: str | Path,
    accuracy_csv: str | Path,
    score_files: dict[tuple[str, str], str | Path],
    feature_tables: dict[str, str | Path],
    parent_artifacts: dict[str, str | Path],
    config_file: str | Path,
    git: dict[str, str],
    workdir: str | Path,
) -> WorkflowRecord:
    """Everything one workflow run logs, read from its result files.

    ``score_files`` maps (feature source, detector) to its test scores; ``feature_tables`` a
    feature source to one of its feature tables (only its header is read, for the dimension);
    ``parent_artifacts`` an artifact name to a file (plots, metrics table); ``workdir`` a directory
    where the per-detector metrics rows are written to be attached.
    """
    import pandas as pd

    experiment = experiment_config(config)
    result_files = {
        "metrics": metrics_csv,
        "history": history_csv,
        "accuracy": accuracy_csv,
        **{f"scores/{detector}/{source}": path for (source, detector), path in score_files.items()},
    }
    fingerprint = results_fingerprint(config, result_files)
    common = {
        "config_hash": config_hash(experiment),
        "data_source": config["data"]["source"],
        "seed": str(config["seed"]),
        **git,
    }
    data_params = {
        "seed": str(config["seed"]),
        **flatten_params({"data": config["data"]}),
        **flatten_params({"noise_types": config["noise_types"]}),
    }

    children = []
    metrics = pd.read_csv(metrics_csv)
    workdir = Path(workdir)
    for (source, detector) in score_files:
        rows = metrics[(metrics["feature_source"] == source) & (metrics["detector"] == detector)]
        if rows.empty:
            raise ValueError(f"{metrics_csv} has no rows for detector {detector!r} on {source!r}")
        rows_path = workdir / f"{detector}.{source}.metrics.csv"
        rows.to_csv(rows_path, index=False)
        settings = config["detectors"][detector]
        children.append(
            RunRecord(
                name=f"{detector} {source}",
                tags={**common, RUN_KIND_TAG: "detector", "detector": detector, "feature_source": source},
                params={
                    "detector": detector,
                    "feature_source": source,
                    "layer": "none" if source == PIXEL_SOURCE else source,
                    "feature_dim": str(feature_dimension(feature_tables[source])),
                    **flatten_params(settings, "detector."),
                    **data_params,
                },
                metrics=[(key, value, 0) for key, value in detector_metrics(rows).items()],
                artifacts={"metrics.csv": rows_path},
            )
        )

    history = pd.read_csv(history_csv)
    accuracy = pd.read_csv(accuracy_csv)
    step_metrics = [
        (column, float(row[column]), int(row["epoch"]))
        for row in history.to_dict(orient="records")
        for column in history.columns
        if column != "epoch" and not pd.isna(row[column])
    ]
    children.append(
        RunRecord(
            name="classifier",
            tags={**common, RUN_KIND_TAG: "classifier"},
            params={**flatten_params(config["classifier"], "classifier."), **data_params},
            metrics=step_metrics
            + [(f"test_accuracy.{row['group']}", float(row["accuracy"]), 0) for row in accuracy.to_dict("records")],
            artifacts={"history.csv": Path(history_csv), "test_accuracy.csv": Path(accuracy_csv)},
        )
    )

    parent = RunRecord(
        name=f"{common['config_hash']} {config['data']['source']} seed {config['seed']}",
        tags={**common, RUN_KIND_TAG: "workflow", FINGERPRINT_TAG: fingerprint, N_CHILDREN_TAG: str(len(children))},
        params=flatten_params(experiment),
        artifacts={"config.yaml": Path(config_file), **{name: Path(path) for name, path in parent_artifacts.items()}},
    )
    if git.get("git_commit", "unknown") != "unknown":
        parent.tags["mlflow.source.git.commit"] = git["git_commit"]
    return WorkflowRecord(fingerprint=fingerprint, parent=parent, children=children)


# ---------------------------------------------------------------------------------------------
# Talking to MLflow
# ---------------------------------------------------------------------------------------------


def configure_http(timeout: int, retries: int) -> None:
    """Bound how long an unreachable tracking server can hold the job (MLflow's defaults: minutes)."""
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(timeout)
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(retries)
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "1"


@contextlib.contextmanager
def store_lock(tracking_uri: str) -> Iterator[None]:
    """With a SQLite store, one writer at a time on this machine (a lock file beside the database).

    Two workflows that finish together and share a SQLite file would otherwise interleave their
    writes and can hit "database is locked". A tracking server serialises by itself.
    """
    database = sqlite_path(tracking_uri)
    if database is None:
        yield
        return
    import fcntl

    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def make_client(tracking_uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def get_or_create_experiment(client, name: str, artifact_location: str | None = None) -> str:
    """The experiment's id, creating it if needed; safe when another process creates it at the same time."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage != "active":
            raise TrackingUnavailable(
                f"the MLflow experiment {name!r} is deleted; restore it (mlflow experiments restore "
                f"--experiment-id {experiment.experiment_id}) or set mlflow.experiment to another name"
            )
        return experiment.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location)
    except MlflowException:  # created meanwhile by another process (mlflow#4123)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def find_complete_set(client, experiment_id: str, fingerprint: str):
    """The FINISHED parent run already logged for this fingerprint, or None."""
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.{FINGERPRINT_TAG} = '{fingerprint}' and attributes.status = 'FINISHED'",
        max_results=1,
    )
    return runs[0] if runs else None


def children_of(client, experiment_id: str, parent_run_id: str) -> list:
    query = f"tags.mlflow.parentRunId = '{parent_run_id}'"
    return list(client.search_runs([experiment_id], filter_string=query, max_results=1000))


def delete_incomplete_sets(client, experiment_id: str, fingerprint: str) -> list[str]:
    """Delete parents of this fingerprint that never FINISHED, and their children; return their ids."""
    deleted = []
    for parent in client.search_runs(
        [experiment_id],
        filter_string=f"tags.{FINGERPRINT_TAG} = '{fingerprint}' and attributes.status != 'FINISHED'",
        max_results=1000,
    ):
        for child in children_of(client, experiment_id, parent.info.run_id):
            client.delete_run(child.info.run_id)
        client.delete_run(parent.info.run_id)
        deleted.append(parent.info.run_id)
    return deleted


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _log_contents(client, run_id: str, record: RunRecord, timestamp: int) -> None:
    from mlflow.entities import Metric, Param

    params = [Param(key, value) for key, value in record.params.items()]
    metrics = [Metric(key, value, timestamp, step) for key, value, step in record.metrics]
    for chunk in _chunks(params, _BATCH["params"]):
        client.log_batch(run_id, params=chunk, synchronous=True)
    for chunk in _chunks(metrics, _BATCH["metrics"]):
        client.log_batch(run_id, metrics=chunk, synchronous=True)
    for name, path in record.artifacts.items():
        if Path(path).name == name:
            client.log_artifact(run_id, str(path))
        else:  # attach under the artifact's own name
            with tempfile.TemporaryDirectory() as directory:
                renamed = Path(directory) / name
                renamed.write_bytes(Path(path).read_bytes())
                client.log_artifact(run_id, str(renamed))


def log_workflow_record(client, experiment_id: str, record: WorkflowRecord, log=None) -> dict[str, Any]:
    """Log the set unless a complete one with this fingerprint exists; return what was done.

    The parent is created RUNNING and set FINISHED last. If anything fails, the parent is marked
    FAILED and the partial set deleted (best effort: if MLflow is gone, the next attempt deletes
    it before logging), and the error propagates.
    """
    existing = find_complete_set(client, experiment_id, record.fingerprint)
    if existing is not None:
        children = children_of(client, experiment_id, existing.info.run_id)
        return {
            "status": "already_logged",
            "parent_run_id": existing.info.run_id,
            "child_run_ids": {child.info.run_name: child.info.run_id for child in children},
        }
    deleted = delete_incomplete_sets(client, experiment_id, record.fingerprint)
    if deleted and log:
        log.info("deleted incomplete earlier attempt(s): %s", ", ".join(deleted))

    now = int(time.time() * 1000)
    parent = client.create_run(experiment_id, start_time=now, tags=record.parent.tags, run_name=record.parent.name)
    parent_id = parent.info.run_id
    child_ids: dict[str, str] = {}
    try:
        for child in record.children:
            run = client.create_run(
                experiment_id,
                start_time=now,
                tags={**child.tags, "mlflow.parentRunId": parent_id},
                run_name=child.name,
            )
            child_ids[child.name] = run.info.run_id
            _log_contents(client, run.info.run_id, child, now)
            client.set_terminated(run.info.run_id, "FINISHED")
            if log:
                log.info("logged child run %s (%s)", child.name, run.info.run_id)
        _log_contents(client, parent_id, record.parent, now)
        client.set_terminated(parent_id, "FINISHED")
    except BaseException:
        with contextlib.suppress(Exception):
            client.set_terminated(parent_id, "FAILED")
            for run_id in child_ids.values():
                client.delete_run(run_id)
            client.delete_run(parent_id)
        raise
    return {"status": "logged", "parent_run_id": parent_id, "child_run_ids": child_ids}


def artifact_location_for(tracking_uri: str, artifact_dir: str | Path) -> str | None:
    """With a local SQLite store, artifacts go beside it under results/; a server decides for itself."""
    if sqlite_path(tracking_uri) is None:
        return None
    return Path(artifact_dir).resolve().as_uri()


def absolute_sqlite_uri(tracking_uri: str) -> str:
    database = sqlite_path(tracking_uri)
    if database is None:
        return tracking_uri
    database.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{database.resolve()}"


def one_line(error: BaseException) -> str:
    """The gist of an MLflow/requests error in one line: the OS-level cause when there is one
    (``cannot connect: [Errno 111] Connection refused``), the HTTP status a server kept answering,
    else the first line, shortened."""
    import re

    text = str(error).strip()
    cause = re.search(r"\[Errno -?\d+\] [^\"')(]+", text)
    if cause:
        return f"cannot connect: {cause.group(0).strip()}"
    status = re.search(r"too many (\d{3}) error responses", text)
    if status:
        return f"the server kept answering HTTP {status.group(1)}"
    first = text.splitlines()[0] if text else type(error).__name__
    return first if len(first) <= 300 else first[:300] + "..."
