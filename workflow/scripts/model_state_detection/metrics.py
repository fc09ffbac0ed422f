"""What each detector catches and what it wrongly flags, per sample group of the test split."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

METRIC_COLUMNS = ("n_samples", "n_flagged", "flagged_rate", "tnr", "fpr", "tpr", "fnr", "auroc")
KEY_COLUMNS = ("feature_source", "detector", "group")


def group_metrics(scores: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """One row per sample group from a table of test scores.

    ``scores`` has the columns ``noise_type`` (``clean`` or a noise type name), ``score``
    (higher = more anomalous) and ``flagged`` (bool). On clean samples a flag is a false
    positive: the row gives TNR and FPR. On a noise type a flag is a true positive: the row
    gives TPR, FNR and the AUROC of telling that noise type from the clean samples by score.
    Rates not defined for a group are NaN.
    """
    clean = scores[scores["noise_type"] == "clean"]
    rows = []
    for group in groups:
        members = scores[scores["noise_type"] == group]
        n_samples, n_flagged = len(members), int(members["flagged"].sum())
        rate = n_flagged / n_samples if n_samples else math.nan
        row = {"group": group, "n_samples": n_samples, "n_flagged": n_flagged, "flagged_rate": rate}
        if group == "clean":
            row.update(tnr=1 - rate, fpr=rate, tpr=math.nan, fnr=math.nan, auroc=math.nan)
        else:
            row.update(tnr=math.nan, fpr=math.nan, tpr=rate, fnr=1 - rate, auroc=auroc(clean["score"], members["score"]))
        rows.append(row)
    return pd.DataFrame(rows, columns=["group", *METRIC_COLUMNS])


def auroc(normal_scores, anomaly_scores) -> float:
    """Area under the ROC curve for separating anomalies (positives) from normal samples.

    0.5 means the scores do not tell them apart; 1.0 means every anomaly scores above every
    normal sample. NaN when either side is empty.
    """
    normal_scores, anomaly_scores = np.asarray(normal_scores), np.asarray(anomaly_scores)
    if len(normal_scores) == 0 or len(anomaly_scores) == 0:
        return math.nan
    truth = np.r_[np.zeros(len(normal_scores)), np.ones(len(anomaly_scores))]
    return float(roc_auc_score(truth, np.r_[normal_scores, anomaly_scores]))


def detection_metrics(score_tables: dict[tuple[str, str], pd.DataFrame], groups: list[str]) -> pd.DataFrame:
    """The tidy metrics table: a row per feature source x detector x sample group."""
    frames = []
    for (source, detector), scores in score_tables.items():
        frame = group_metrics(scores, groups)
        frame.insert(0, "detector", detector)
        frame.insert(0, "feature_source", source)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)[[*KEY_COLUMNS, *METRIC_COLUMNS]]


def records_without_nan(table: pd.DataFrame) -> list[dict]:
    """Rows as dicts for JSON, undefined rates as null."""
    return [
        {key: (None if isinstance(value, float) and math.isnan(value) else value) for key, value in row.items()}
        for row in table.astype(object).to_dict(orient="records")
    ]
