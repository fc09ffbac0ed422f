"""Draw one of the result figures (which one: snakemake.params.figure)."""

from typing import TYPE_CHECKING

import pandas as pd

from model_state_detection import plots
from model_state_detection.logs import output_to_log

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(figure, input_paths, keys, detector, output_path, log_path):
    with output_to_log(log_path):
        if figure == "score_distributions":
            scores = pd.concat(
                [pd.read_csv(path).assign(feature_source=source) for source, path in zip(keys, input_paths)],
                ignore_index=True,
            )
            plots.plot_score_distributions(scores, detector, output_path)
        else:
            metrics = pd.read_csv(input_paths[0])
            {"detection_rates": plots.plot_detection_rates, "auroc_heatmap": plots.plot_auroc_heatmap}[figure](
                metrics, output_path
            )


main(
    figure=snakemake.params.figure,
    input_paths=list(snakemake.input),
    keys=snakemake.params.get("output_keys", []),
    detector=snakemake.params.get("detector"),
    output_path=snakemake.output[0],
    log_path=snakemake.log[0],
)
