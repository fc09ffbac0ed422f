"""Validate a workflow configuration against the JSON Schema and fill in its defaults.

Snakemake's own ``snakemake.utils.validate`` reports a failure as the whole jsonschema
error (schema excerpts included). A researcher who mistyped one value deserves one line
that names the key and says what is allowed, so the validation is done here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

PIXEL_SOURCE = "pixel"
DETECTORS = ("isolation_forest", "ann")


class ConfigError(ValueError):
    """A configuration that the workflow cannot run; the message names the key."""


def _with_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


_DefaultFillingValidator = _with_defaults(Draft202012Validator)


def load_schema(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _key_name(path) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "(top level)"


# JSON Schema's type names, as a researcher writing YAML would say them.
_KINDS = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "null": "null",
}


def _show(value) -> str:
    """A config value as it reads in YAML: null, true/false, numbers and quoted texts."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def _describe(error) -> str:
    key = _key_name(error.absolute_path)
    validator, expected = error.validator, error.validator_value
    if validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = "" if key == "(top level)" else f" under '{key}'"
        return f"unknown key {', '.join(map(repr, unknown))}{where}; allowed keys: {allowed}"
    if validator == "enum":
        return f"'{key}' is {_show(error.instance)}; allowed: {', '.join(map(str, expected))}"
    if validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"'{key}' is {_show(error.instance)}; expected {' or '.join(_KINDS.get(kind, kind) for kind in kinds)}"
    if validator == "required":
        return f"'{key}' lacks a required key: {error.message.split(' ')[0]}"
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
    }
    if validator in bounds:
        return f"'{key}' is {_show(error.instance)}; it must be {bounds[validator]} {expected}"
    if validator == "minItems":
        return f"'{key}' is an empty list; it must list at least {expected} item{'s' if expected > 1 else ''}"
    if validator == "uniqueItems":
        return f"'{key}' lists an item twice: {_show(error.instance)}"
    if validator == "pattern":
        return f"'{key}' is {_show(error.instance)}; expected a name of letters, digits and _ starting with a letter"
    if validator == "minLength":
        return f"'{key}' must not be empty"
    return f"'{key}': {error.message}"


def layer_names(hidden_units: list[int]) -> list[str]:
    """Names Keras gives the Dense layers of a fresh model: dense, dense_1, dense_2...

    The classifier names its layers explicitly with these, hidden layers first and the
    softmax output last, so that the names match the original study's ('dense', 'dense_1').
    """
    return ["dense" if i == 0 else f"dense_{i}" for i in range(len(hidden_units) + 1)]


def resolve_config(config: dict[str, Any], schema: dict) -> dict[str, Any]:
    """Return a validated copy of ``config`` with every default filled in.

    Raises ConfigError with one message that names the offending key.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"the configuration must be a mapping of keys, got {type(config).__name__}")
    resolved = copy.deepcopy(config)
    validator = _DefaultFillingValidator(schema)
    errors = sorted(validator.iter_errors(resolved), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise ConfigError(_describe(errors[0]))

    names = [noise["name"] for noise in resolved["noise_types"]]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ConfigError(f"'noise_types' uses the name {duplicated[0]!r} more than once; each name must be unique")
    if "clean" in names:
        raise ConfigError("'noise_types' may not use the name 'clean': it names the noise-free samples")

    layers = layer_names(resolved["classifier"]["hidden_units"])
    for index, source in enumerate(resolved["feature_sources"]):
        if source != PIXEL_SOURCE and source not in layers:
            raise ConfigError(
                f"'feature_sources[{index}]' is {source!r}; allowed: {PIXEL_SOURCE} or a classifier layer "
                f"({', '.join(layers)})"
            )

    data = resolved["data"]
    if data["source"] == "npz":
        if not data["path"]:
            raise ConfigError("'data.path' is required when 'data.source' is npz: the path of an mnist.npz-style file")
    elif data["path"] is not None:
        raise ConfigError(f"'data.path' is only used with 'data.source: npz' (data.source is {data['source']!r})")
    return resolved


def check_split_sizes(config: dict[str, Any], n_digits: int, n_classes: int = 10) -> None:
    """Refuse ``data`` settings that leave a split too small to be made, before any job starts.

    ``n_digits`` images of ``n_classes`` digit classes come from the data source. A stratified
    subsample (``max_digits``) must leave at least one image of each class out; each split,
    stratified by digit and dealt into the clean group and one group per noise type, needs at
    least one image per class and per group. Raises ConfigError naming the key.
    """
    data = config["data"]
    max_digits = data["max_digits"]
    if max_digits is not None and max_digits < n_digits:
        if n_digits - max_digits < n_classes:
            raise ConfigError(
                f"'data.max_digits' is {max_digits}: a stratified subsample of the {n_digits} digits must leave out at "
                f"least {n_classes} (one per digit class); set it to null to use them all"
            )
        n_digits = max_digits
    needed = max(n_classes, 1 + len(config["noise_types"]))
    n_test = math.ceil(data["test_fraction"] * n_digits)
    n_train = n_digits - n_test
    if min(n_train, n_test) < needed:
        raise ConfigError(
            f"'data.test_fraction' is {data['test_fraction']}: it splits the {n_digits} digits into {n_train} for "
            f"training and {n_test} for testing, but each split needs at least {needed} (one per digit class and one "
            "per sample group)"
        )


def check_config(config: dict[str, Any], schema: dict, checked_files: Path | None = None) -> dict[str, Any]:
    """All that is checked before any job starts; returns the resolved config.

    ``resolve_config``, then the data source: an npz file is loaded and checked (DataError naming
    the file) and the splits it makes must be large enough (``check_split_sizes``).
    ``checked_files``, a JSON file, remembers the npz files that passed (see ``checked_source_size``).
    """
    resolved = resolve_config(config, schema)
    data = resolved["data"]
    check_split_sizes(resolved, *checked_source_size(data["source"], data["path"], checked_files))
    return resolved


def checked_source_size(source: str, path: str | None, checked_files: Path | None) -> tuple[int, int]:
    """``data.source_size``, remembering in ``checked_files`` each npz file that passed its check.

    Checking an npz file means reading all of it (about 2 s for full MNIST), at every invocation:
    a file with the same path, size and modification time as one that passed is not read again.
    The job that uses it (make_datasets) reads and checks it in any case.
    """
    from .data import source_size

    if source != "npz" or checked_files is None or not Path(path).is_file():
        return source_size(source, path)
    from .atomic import write_json

    status = Path(path).stat()
    key = str(Path(path).resolve())
    identity = {"size": status.st_size, "mtime_ns": status.st_mtime_ns}
    try:
        passed = json.loads(Path(checked_files).read_text())
    except (OSError, ValueError):
        passed = {}
    passed = passed if isinstance(passed, dict) else {}
    entry = passed.get(key)
    if isinstance(entry, dict) and entry.get("file") == identity:
        return tuple(entry["size"])
    size = source_size(source, path)
    passed[key] = {"file": identity, "size": list(size)}
    write_json(passed, checked_files)  # atomic: parallel invocations never read half a file
    return size


def config_hash(config: dict[str, Any]) -> str:
    """A short, stable fingerprint of a resolved configuration."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def dataset_names(config: dict[str, Any]) -> list[str]:
    """The sample groups of each split: clean first, then the noise types in config order."""
    return ["clean"] + [noise["name"] for noise in config["noise_types"]]
