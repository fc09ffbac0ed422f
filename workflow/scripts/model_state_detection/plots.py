"""Figures that answer "which feature source catches which noise type"."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DETECTOR_TITLES = {"isolation_forest": "Isolation Forest (unsupervised)", "ann": "ANN (supervised)"}


def _title(detector: str) -> str:
    return DETECTOR_TITLES.get(detector, detector)


def _save(figure, path) -> None:
    from .io import atomic_path

    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=120, bbox_inches="tight")
    plt.close(figure)


def plot_detection_rates(metrics: pd.DataFrame, path) -> None:
    """Share of test samples flagged anomalous, per group, sources side by side, a panel per detector.

    On clean samples the bar is the false-positive rate; on a noise type, the true-positive rate.
    """
    detectors = list(dict.fromkeys(metrics["detector"]))
    sources = list(dict.fromkeys(metrics["feature_source"]))
    groups = list(dict.fromkeys(metrics["group"]))
    figure, axes = plt.subplots(1, len(detectors), figsize=(6 * len(detectors), 4.2), squeeze=False, sharey=True)
    width = 0.8 / len(sources)
    x = np.arange(len(groups))
    for axis, detector in zip(axes[0], detectors):
        for i, source in enumerate(sources):
            rows = metrics[(metrics["detector"] == detector) & (metrics["feature_source"] == source)]
            rates = rows.set_index("group").reindex(groups)["flagged_rate"].to_numpy(dtype=float)
            bars = axis.bar(x + (i - (len(sources) - 1) / 2) * width, rates, width, label=source)
            axis.bar_label(bars, labels=[f"{100 * r:.0f}" for r in rates], fontsize=7, padding=1)
        axis.set_xticks(x, [f"{g}\n(false pos.)" if g == "clean" else f"{g}\n(true pos.)" for g in groups])
        axis.set_ylim(0, 1.08)
        axis.set_title(_title(detector))
        axis.axvspan(-0.5, 0.5, color="0.92", zorder=0)
        axis.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("share of test samples flagged anomalous")
    axes[0][-1].legend(title="feature source", loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.suptitle("What each detector flags: clean samples (left, shaded) should stay low, noisy ones high")
    _save(figure, path)


def plot_score_distributions(scores: pd.DataFrame, detector: str, path) -> None:
    """Distribution of one detector's anomaly scores per group, a panel per feature source."""
    sources = list(dict.fromkeys(scores["feature_source"]))
    groups = list(dict.fromkeys(scores["noise_type"]))
    figure, axes = plt.subplots(1, len(sources), figsize=(4.2 * len(sources), 3.8), squeeze=False)
    for axis, source in zip(axes[0], sources):
        rows = scores[scores["feature_source"] == source]
        data = [rows.loc[rows["noise_type"] == group, "score"].to_numpy() for group in groups]
        parts = axis.violinplot([d if len(d) else [np.nan] for d in data], showmedians=True)
        for body, group in zip(parts["bodies"], groups):
            body.set_facecolor("tab:green" if group == "clean" else "tab:red")
        axis.set_xticks(np.arange(1, len(groups) + 1), groups)
        axis.set_title(source)
        axis.grid(axis="y", alpha=0.3)
    label = "predicted probability of noisy" if detector == "ann" else "anomaly score (higher = more anomalous)"
    axes[0][0].set_ylabel(label)
    figure.suptitle(f"{_title(detector)}: test-sample scores per group (green clean, red noisy)")
    _save(figure, path)


def plot_auroc_heatmap(metrics: pd.DataFrame, path) -> None:
    """AUROC of clean vs each noise type, feature source x noise type, a panel per detector."""
    noisy = metrics[metrics["group"] != "clean"]
    detectors = list(dict.fromkeys(noisy["detector"]))
    sources = list(dict.fromkeys(noisy["feature_source"]))
    groups = list(dict.fromkeys(noisy["group"]))
    figure, axes = plt.subplots(
        1, len(detectors), figsize=(1.2 * len(groups) * len(detectors) + 2.5, 0.7 * len(sources) + 1.8), squeeze=False
    )
    for axis, detector in zip(axes[0], detectors):
        grid = (
            noisy[noisy["detector"] == detector]
            .pivot(index="feature_source", columns="group", values="auroc")
            .reindex(index=sources, columns=groups)
        )
        # diverging around chance: green separates, yellow is chance, red ranks clean samples higher
        image = axis.imshow(grid.to_numpy(dtype=float), vmin=0.0, vmax=1.0, cmap="RdYlGn", aspect="auto")
        for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            axis.text(j, i, f"{value:.2f}", ha="center", va="center", color="black")
        axis.set_xticks(range(len(groups)), groups)
        axis.set_yticks(range(len(sources)), sources)
        axis.set_title(_title(detector))
    figure.colorbar(image, ax=axes[0].tolist(), label="AUROC (0.5 = chance)")
    figure.suptitle("How well each feature source separates each noise type from clean digits")
    _save(figure, path)
