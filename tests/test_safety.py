"""Files are read safely: YAML with safe_load, npz without pickle, Keras models in safe mode, no
pickle from a path the user supplies; a server the README starts listens on 127.0.0.1 only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO

CODE = sorted((REPO / "workflow/scripts").rglob("*.py"))
# The only pickle the workflow writes is its own Isolation Forest (joblib); nothing in the workflow
# reads it back, and the loader says that it is for files of your own run only.
PICKLE_READERS = {("detectors.py", "IsolationForestDetector.load")}


def calls(path: Path):
    """(qualified function name, call node, enclosing definition) of every call in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            inner = f"{scope}.{child.name}".lstrip(".") if isinstance(child, (ast.FunctionDef, ast.ClassDef)) else scope
            if isinstance(child, ast.Call):
                found.append((ast.unparse(child.func), child, inner))
            visit(child, inner)

    visit(tree, "")
    return found


def keyword(call: ast.Call, name: str):
    for item in call.keywords:
        if item.arg == name and isinstance(item.value, ast.Constant):
            return item.value.value
    return None


def test_the_code_is_found():
    assert len(CODE) >= 10 and any(path.name == "data.py" for path in CODE)


def test_yaml_is_only_loaded_with_safe_load():
    sources = CODE + sorted((REPO / "workflow/rules").glob("*.smk")) + [REPO / "Snakefile"]
    for path in sources:
        text = path.read_text()
        for loader in re.findall(r"yaml\.(\w*load\w*)", text):
            assert loader == "safe_load", f"{path.name}: yaml.{loader}"
        assert "Loader=" not in text, path.name


def test_numpy_never_loads_pickles():
    for path in CODE:
        for name, call, _ in calls(path):
            if name in ("np.load", "numpy.load"):
                assert keyword(call, "allow_pickle") is False, f"{path.name}:{call.lineno}"


def test_keras_models_are_loaded_in_safe_mode():
    loads = 0
    for path in CODE:
        for name, call, _ in calls(path):
            if name.endswith("load_model"):
                loads += 1
                assert keyword(call, "safe_mode") is True, f"{path.name}:{call.lineno}"
    assert loads >= 2


def test_no_pickle_is_read_from_a_user_supplied_path():
    for path in CODE:
        for name, call, scope in calls(path):
            if name.split(".")[-1] in ("load", "loads") and name.split(".")[0] in (
                "pickle",
                "joblib",
                "dill",
                "cloudpickle",
            ):
                assert (path.name, scope) in PICKLE_READERS, f"{path.name}:{call.lineno} {name} in {scope}"
            assert name not in ("pd.read_pickle", "torch.load"), f"{path.name}:{call.lineno}"
    for script in (REPO / "workflow/scripts").glob("*.py"):  # the rules' scripts never call that loader
        assert "IsolationForestDetector.load" not in script.read_text(), script.name


class _TouchesAFile:
    """Unpickling this creates a file: the stand-in for code a malicious file would run."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_an_npz_file_with_a_pickled_object_is_refused_unread(tmp_path):
    from model_state_detection.data import DataError, load_npz

    marker = tmp_path / "code-ran"
    path = tmp_path / "digits.npz"
    images = np.zeros((20, 28, 28), np.uint8)
    np.savez(
        path,
        x_train=images,
        y_train=np.array([_TouchesAFile(marker)] * 20, dtype=object),
        x_test=images,
        y_test=np.arange(20) % 10,
    )
    with pytest.raises(DataError, match="allow_pickle=False"):
        load_npz(path)
    assert not marker.exists()


def test_a_keras_model_with_code_in_it_is_refused(tmp_path):
    import keras

    from model_state_detection.classifier import load_classifier

    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(tmp_path / "model.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        load_classifier(tmp_path / "model.keras")


SERVERS = re.compile(r"\b(mlflow (ui|server)|http\.server|jupyter|tensorboard|gunicorn|uvicorn|flask run)\b")


def code_lines(markdown: Path):
    inside = False
    for line in markdown.read_text().splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            yield line


@pytest.mark.parametrize("markdown", ["README.md", "config/README.md"])
def test_servers_the_readme_starts_listen_on_localhost_only(markdown):
    for line in code_lines(REPO / markdown):
        assert "0.0.0.0" not in line, line
        for flag, host in re.findall(r"(--host|--bind|-h)[ =](\S+)", line):
            if SERVERS.search(line):
                assert host in ("127.0.0.1", "localhost"), line
        if "http.server" in line:  # it listens on every interface unless told otherwise
            assert "--bind 127.0.0.1" in line, line
