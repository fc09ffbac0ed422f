"""The MLflow part of the library: metric and param names, the fingerprint, the retry trigger, and
logging a set against a real MLflow SQLite store (complete or not at all, never twice)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from model_state_detection import tracking
from model_state_detection.tracking import RunRecord, WorkflowRecord


def test_detector_metrics_are_named_column_dot_group_and_skip_undefined_cells():
    rows = pd.DataFrame(
        [
            {"group": "clean", "n_samples": 4, "n_flagged": 1, "flagged_rate": 0.25, "tnr": 0.75, "fpr": 0.25,
             "tpr": math.nan, "fnr": math.nan, "auroc": math.nan},
            {"group": "type1", "n_samples": 4, "n_flagged": 3, "flagged_rate": 0.75, "tnr": math.nan, "fpr": math.nan,
             "tpr": 0.75, "fnr": 0.25, "auroc": 0.875},
        ]
    )
    assert tracking.detector_metrics(rows) == {
        "n_samples.clean": 4.0, "n_flagged.clean": 1.0, "flagged_rate.clean": 0.25, "tnr.clean": 0.75,
        "fpr.clean": 0.25,
        "n_samples.type1": 4.0, "n_flagged.type1": 3.0, "flagged_rate.type1": 0.75, "tpr.type1": 0.75,
        "fnr.type1": 0.25, "auroc.type1": 0.875,
    }  # fmt: skip


def test_flatten_params_names_nested_keys_and_noise_types():
    params = tracking.flatten_params(
        {
            "seed": 3,
            "data": {"source": "npz", "path": None, "max_digits": 100},
            "noise_types": [{"name": "grain", "kind": "gaussian", "rate": 0.1}],
            "classifier": {"hidden_units": [128, 64], "train_on_noisy": True},
        }
    )
    assert params == {
        "seed": "3",
        "data.source": "npz",
        "data.path": "null",
        "data.max_digits": "100",
        "noise.grain.kind": "gaussian",
        "noise.grain.rate": "0.1",
        "classifier.hidden_units": "[128,64]",
        "classifier.train_on_noisy": "True",
    }


def test_tracking_uri_config_key_then_environment_then_sqlite_under_results():
    assert tracking.resolve_tracking_uri("http://a:1", {"MLFLOW_TRACKING_URI": "http://b:2"}) == "http://a:1"
    assert tracking.resolve_tracking_uri(None, {"MLFLOW_TRACKING_URI": "http://b:2"}) == "http://b:2"
    assert tracking.resolve_tracking_uri(None, {"MLFLOW_TRACKING_URI": " "}) == "sqlite:///results/mlflow/mlflow.db"
    assert tracking.resolve_tracking_uri(None, {}) == "sqlite:///results/mlflow/mlflow.db"
    assert str(tracking.sqlite_path("sqlite:///results/mlflow/mlflow.db")) == "results/mlflow/mlflow.db"
    assert str(tracking.sqlite_path("sqlite:////abs/m.db")) == "/abs/m.db"
    assert tracking.sqlite_path("http://a:1") is None


def test_credentials_never_shown():
    assert tracking.describe_uri("https://ann:secret@mlflow.example.org/x") == "https://mlflow.example.org/x"
    assert tracking.describe_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_receipt_trigger(tmp_path):
    receipt = tmp_path / "logged_run.json"
    assert tracking.receipt_trigger(receipt) == "first"  # no receipt yet
    receipt.write_text(json.dumps({"status": "pending", "trigger": "retry-1"}))
    assert tracking.receipt_trigger(receipt) == "retry-1"
    receipt.write_text("{not json")
    assert tracking.receipt_trigger(receipt) == "first"


def test_fingerprint_follows_results_and_experiment_but_not_where_it_is_logged(tmp_path):
    scores = tmp_path / "scores.csv"
    scores.write_text("score\n0.5\n")
    config = {"seed": 1, "data": {"source": "mnist5k"}, "mlflow": {"experiment": "a"}}
    first = tracking.results_fingerprint(config, {"scores": scores})
    assert tracking.results_fingerprint({**config, "mlflow": {"experiment": "b"}}, {"scores": scores}) == first
    assert tracking.results_fingerprint({**config, "seed": 2}, {"scores": scores}) != first
    scores.write_text("score\n0.6\n")
    assert tracking.results_fingerprint(config, {"scores": scores}) != first


def test_feature_dimension_counts_feature_columns(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text('"dense_0","dense_1","dense_2","digit","noise_type","is_anomaly"\n1,2,3,4,clean,false\n')
    assert tracking.feature_dimension(table) == 3


# --- against a real MLflow store (SQLite file, no server) ------------------------------------


def small_record(tmp_path, fingerprint="f" * 16) -> WorkflowRecord:
    artifact = tmp_path / "rows.csv"
    artifact.write_text("group,tpr\ntype1,0.5\n")
    children = [
        RunRecord(
            name=f"isolation_forest {source}",
            tags={"run_kind": "detector"},
            params={"feature_source": source},
            metrics=[("tpr.type1", 0.5, 0)],
            artifacts={"metrics.csv": artifact},
        )
        for source in ("pixel", "dense")
    ]
    children.append(RunRecord(name="classifier", metrics=[("loss", 2.0, 1), ("loss", 1.0, 2)]))
    parent = RunRecord(
        name="parent",
        tags={"run_kind": "workflow", "fingerprint": fingerprint, "n_children": "3"},
        params={"seed": "1"},
        artifacts={"detection_metrics.csv": artifact},
    )
    return WorkflowRecord(fingerprint=fingerprint, parent=parent, children=children)


@pytest.fixture
def store(tmp_path):
    client = tracking.make_client(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment_id = tracking.get_or_create_experiment(client, "unit", (tmp_path / "artifacts").as_uri())
    return client, experiment_id


def active_runs(client, experiment_id):
    return list(client.search_runs([experiment_id]))


def test_a_set_is_logged_once_with_its_children_and_artifacts(store, tmp_path):
    client, experiment_id = store
    assert tracking.get_or_create_experiment(client, "unit") == experiment_id  # exists: same id
    outcome = tracking.log_workflow_record(client, experiment_id, small_record(tmp_path))
    assert outcome["status"] == "logged"
    runs = active_runs(client, experiment_id)
    assert len(runs) == 4 and all(run.info.status == "FINISHED" for run in runs)
    parent_id = outcome["parent_run_id"]
    children = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent_id]
    names = sorted(run.info.run_name for run in children)
    assert names == ["classifier", "isolation_forest dense", "isolation_forest pixel"]
    history = client.get_metric_history(outcome["child_run_ids"]["classifier"], "loss")
    assert [(m.step, m.value) for m in history] == [(1, 2.0), (2, 1.0)]
    dense = outcome["child_run_ids"]["isolation_forest dense"]
    assert [a.path for a in client.list_artifacts(dense)] == ["metrics.csv"]
    assert [a.path for a in client.list_artifacts(parent_id)] == ["detection_metrics.csv"]

    again = tracking.log_workflow_record(client, experiment_id, small_record(tmp_path))
    assert again["status"] == "already_logged" and again["parent_run_id"] == parent_id
    assert again["child_run_ids"] == outcome["child_run_ids"]
    assert len(active_runs(client, experiment_id)) == 4


def test_a_half_set_left_by_an_interrupted_attempt_is_deleted_before_logging(store, tmp_path):
    client, experiment_id = store
    # what an attempt killed after its first child leaves: a RUNNING parent and one child
    left_parent = client.create_run(experiment_id, tags={"fingerprint": "f" * 16, "run_kind": "workflow"})
    left_child = client.create_run(experiment_id, tags={"mlflow.parentRunId": left_parent.info.run_id})
    # another fingerprint's unfinished set (another workflow logging right now) is not touched
    other = client.create_run(experiment_id, tags={"fingerprint": "0" * 16})

    outcome = tracking.log_workflow_record(client, experiment_id, small_record(tmp_path))
    assert client.get_run(left_parent.info.run_id).info.lifecycle_stage == "deleted"
    assert client.get_run(left_child.info.run_id).info.lifecycle_stage == "deleted"
    assert client.get_run(other.info.run_id).info.lifecycle_stage == "active"
    visible = {run.info.run_id for run in active_runs(client, experiment_id)}
    assert visible == {outcome["parent_run_id"], *outcome["child_run_ids"].values(), other.info.run_id}


def test_a_failure_mid_set_leaves_no_visible_half_set(store, tmp_path):
    client, experiment_id = store
    record = small_record(tmp_path)
    record.children[1].artifacts = {"metrics.csv": tmp_path / "missing.csv"}  # fails after the first child
    with pytest.raises(FileNotFoundError):
        tracking.log_workflow_record(client, experiment_id, record)
    assert active_runs(client, experiment_id) == []
    # the next attempt logs the complete set
    assert tracking.log_workflow_record(client, experiment_id, small_record(tmp_path))["status"] == "logged"
    assert len(active_runs(client, experiment_id)) == 4


def test_a_deleted_experiment_is_named_in_the_error(store):
    client, experiment_id = store
    client.delete_experiment(experiment_id)
    with pytest.raises(tracking.TrackingUnavailable, match="'unit' is deleted"):
        tracking.get_or_create_experiment(client, "unit")


def test_one_line_names_the_cause_of_a_connection_failure():
    error = RuntimeError(
        "API request to http://127.0.0.1:1/api/2.0/mlflow/experiments/get-by-name failed with exception "
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /x (Caused by "
        "NewConnectionError(\"HTTPConnection(host='127.0.0.1', port=1): Failed to establish a new connection: "
        "[Errno 111] Connection refused\"))"
    )
    assert tracking.one_line(error) == "cannot connect: [Errno 111] Connection refused"
    retried = RuntimeError("API request to http://h/x failed with exception HTTPConnectionPool(host='h', port=1): Max "
                           "retries exceeded with url: /x (Caused by ResponseError('too many 503 error responses'))")
    assert tracking.one_line(retried) == "the server kept answering HTTP 503"
    assert tracking.one_line(RuntimeError("INTERNAL_ERROR: boom\ndetails")) == "INTERNAL_ERROR: boom"
