"""Shared test helpers: run the real workflow through Snakemake's CLI in a temporary directory."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))

# A small experiment that still exercises every rule: 900 digits, a rate-0 noise (identical to
# clean: detectors should score it at chance) and a saturated one (every pixel random: trivially
# anomalous), short training. The classifier sees clean digits only, so that saturated images
# reach its layers as something it never saw.
TINY_CONFIG = {
    "seed": 7,
    "data": {"source": "mnist5k", "max_digits": 900, "test_fraction": 0.5},
    "noise_types": [
        {"name": "zero", "kind": "uniform", "rate": 0.0},
        {"name": "saturated", "kind": "uniform", "rate": 1.0},
    ],
    "classifier": {"hidden_units": [32, 16], "epochs": 20, "train_on_noisy": False},
    "feature_sources": ["pixel", "dense", "dense_1"],
    "detectors": {
        "isolation_forest": {"n_estimators": 50},
        "ann": {"hidden_units": [16], "epochs": 20},
    },
}


def write_config(directory: Path, config: dict, name: str = "config.yaml") -> Path:
    path = Path(directory) / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake_command(workdir: Path, *args: str, configfile: Path | None = None, cores: int = 2) -> list[str]:
    """``snakemake --snakefile <repo>/Snakefile --directory <workdir> --cores N ... [--configfile F]``.

    ``--configfile`` comes last: it takes several values, and would swallow a target after it.
    """
    command = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", str(cores)]
    command += list(args)
    if configfile is not None:
        command += ["--configfile", str(configfile)]
    return command


def snakemake_environment(env: dict | None = None) -> dict:
    """This interpreter's bin/ first on PATH, so that jobs run in the same environment."""
    # MLflow settings of the caller's shell never leak into a test run (it would log there)
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    return {**inherited, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **(env or {})}


def run_workflow(
    workdir: Path,
    *args: str,
    configfile: Path | None = None,
    cores: int = 2,
    env: dict | None = None,
    timeout: float = 900,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run the workflow through Snakemake's CLI in a subprocess (see ``snakemake_command``)."""
    result = subprocess.run(
        snakemake_command(workdir, *args, configfile=configfile, cores=cores),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=snakemake_environment(env),
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake exited {result.returncode}\n--- stdout\n{result.stdout[-5000:]}\n--- stderr\n{result.stderr[-5000:]}"
        )
    return result


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One complete run of the workflow on TINY_CONFIG, shared by the tests that read its results."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    run_workflow(workdir, configfile=write_config(workdir, TINY_CONFIG))
    return workdir


def checksums(directory: Path) -> dict[str, str]:
    """SHA-256 of every file under ``directory``, by relative path."""
    directory = Path(directory)
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


# Figures that the fault-injection tests measured ("8 interruption points tried, 8 resumed
# identically"); printed at the end of the session, whatever pytest's capture settings.
FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
