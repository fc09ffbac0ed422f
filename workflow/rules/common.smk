# Configuration: validated once, at parse time, against the schema (which supplies the
# defaults); a bad config or data file stops the run here, before any job starts and
# before anything under results/ is touched, with one message naming the key or file.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from model_state_detection.config import (
    DETECTORS,
    ConfigError,
    PIXEL_SOURCE,
    check_config,
    dataset_names,
    load_schema,
)
from model_state_detection.data import DataError


def _stop(message):
    """End the run before any job starts: one line for the user, no traceback."""
    sys.exit(f"Error: {message}")


try:
    _resolved = check_config(
        dict(config),
        load_schema(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"),
        # npz data files that passed the check, so that a re-run does not read them again
        checked_files=Path(".snakemake/model_state_detection/checked_data_files.json"),
    )
except ConfigError as error:
    _stop(f"invalid configuration: {error}")
except DataError as error:
    _stop(f"invalid data file: {error}")
config.clear()
config.update(_resolved)

SPLITS = ["train", "test"]
DATASETS = dataset_names(config)
FEATURE_SOURCES = config["feature_sources"]
LAYERS = [source for source in FEATURE_SOURCES if source != PIXEL_SOURCE]


wildcard_constraints:
    split="|".join(SPLITS),
    source="|".join(FEATURE_SOURCES),
    detector="|".join(DETECTORS),


def feature_tables(source, split):
    """The feature-table CSVs of one source and split, one per sample group."""
    return expand(
        "results/activations/{source}/{split}/{dataset}.csv",
        source=source,
        split=split,
        dataset=DATASETS,
    )


def forest_training_tables(wildcards):
    """The training tables the Isolation Forest reads: with fit_on: clean, the clean one only."""
    tables = feature_tables(wildcards.source, "train")
    if config["detectors"]["isolation_forest"]["fit_on"] == "clean":
        return tables[:1]  # DATASETS lists clean first
    return tables


# TensorFlow splits its sums across its thread pool, and the split changes the rounding: a
# model trained with 1 thread differs in the last bits from one trained with 2. Its rules give
# it a pool of this fixed size (a rule parameter), never the threads a job is granted (fewer
# with --cores 1, others in a cluster profile), so every run computes the same models, and the
# same as benchmarks/one_process.py. A job granted one core runs the pool's threads on it.
TENSORFLOW_THREADS = 2
