"""Detection metrics against hand-computed values."""

import math

import pandas as pd
import pytest

from model_state_detection.metrics import auroc, detection_metrics, group_metrics, records_without_nan


def scores_table():
    # clean: scores 0.1 0.2 0.3 0.4, the last flagged -> FPR 1/4
    # noisy: scores 0.35 0.5 0.6, the last two flagged -> TPR 2/3
    # AUROC: 0.35 beats 3 of 4 clean scores, 0.5 and 0.6 beat all 4 -> (3 + 4 + 4) / 12
    return pd.DataFrame(
        {
            "noise_type": ["clean"] * 4 + ["noisy"] * 3,
            "score": [0.1, 0.2, 0.3, 0.4, 0.35, 0.5, 0.6],
            "flagged": [False, False, False, True, False, True, True],
        }
    )


def test_group_metrics_hand_computed():
    table = group_metrics(scores_table(), ["clean", "noisy"]).set_index("group")
    clean, noisy = table.loc["clean"], table.loc["noisy"]
    assert (clean["n_samples"], clean["n_flagged"]) == (4, 1)
    assert clean["fpr"] == pytest.approx(0.25) and clean["tnr"] == pytest.approx(0.75)
    assert math.isnan(clean["tpr"]) and math.isnan(clean["auroc"])
    assert noisy["tpr"] == pytest.approx(2 / 3) and noisy["fnr"] == pytest.approx(1 / 3)
    assert noisy["auroc"] == pytest.approx(11 / 12)
    assert math.isnan(noisy["fpr"])


def test_auroc_ties_count_half_and_empty_sides_are_nan():
    assert auroc([1, 1], [1, 1]) == pytest.approx(0.5)
    assert auroc([0, 0], [1, 1]) == 1.0
    assert auroc([1, 1], [0, 0]) == 0.0
    assert math.isnan(auroc([], [1.0]))


def test_empty_group_has_nan_rates():
    row = group_metrics(scores_table(), ["clean", "missing"]).set_index("group").loc["missing"]
    assert row["n_samples"] == 0 and math.isnan(row["tpr"]) and math.isnan(row["auroc"])


def test_detection_metrics_is_tidy_and_json_ready():
    table = detection_metrics({("pixel", "ann"): scores_table(), ("dense", "ann"): scores_table()}, ["clean", "noisy"])
    assert list(table.columns[:3]) == ["feature_source", "detector", "group"]
    assert table[["feature_source", "group"]].values.tolist() == [
        ["pixel", "clean"],
        ["pixel", "noisy"],
        ["dense", "clean"],
        ["dense", "noisy"],
    ]
    records = records_without_nan(table)
    assert records[0]["auroc"] is None and records[1]["auroc"] == pytest.approx(11 / 12)
