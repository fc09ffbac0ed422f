"""Split the digits and make the clean and noisy sample groups of each split."""

from typing import TYPE_CHECKING

from model_state_detection.data import make_datasets
from model_state_detection.io import write_sample_group
from model_state_detection.logs import output_to_log

if TYPE_CHECKING:
    from snakemake.script import snakemake


def main(config: dict, outputs: dict[tuple[str, str], str], log_path: str) -> None:
    with output_to_log(log_path) as log:
        for split, groups in make_datasets(config).items():
            for group in groups:
                write_sample_group(group, outputs[split, group.name])
                log.info("%s/%s: %d images", split, group.name, len(group.digits))


main(
    config={"seed": snakemake.params.seed, "data": snakemake.params.data, "noise_types": snakemake.params.noise_types},
    outputs={(split, dataset): path for (split, dataset), path in zip(snakemake.params.output_keys, snakemake.output)},
    log_path=snakemake.log[0],
)
