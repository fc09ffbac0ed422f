"""Validate a workflow configuration against the JSON Schema and fill in its defaults.

Snakemake's own ``snakemake.utils.validate`` reports a failure as the whole jsonschema
error (schema excerpts included). A researcher who mistyped one value deserves one line
that names the key and says what is allowed, so the validation is done here.
"""

from __future__ import annotations

import copy
import hashlib
import json
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


def _describe(error) -> str:
    key = _key_name(error.absolute_path)
    validator, expected = error.validator, error.validator_value
    if validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = "" if key == "(top level)" else f" under '{key}'"
        return f"unknown key {', '.join(map(repr, unknown))}{where}; allowed keys: {allowed}"
    if validator == "enum":
        return f"'{key}' is {error.instance!r}; allowed: {', '.join(map(str, expected))}"
    if validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"'{key}' is {error.instance!r}; expected {' or '.join(kinds)}"
    if validator == "required":
        return f"'{key}' lacks a required key: {error.message.split(' ')[0]}"
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
    }
    if validator in bounds:
        return f"'{key}' is {error.instance!r}; it must be {bounds[validator]} {expected}"
    if validator == "minItems":
        return f"'{key}' must list at least {expected} item(s)"
    if validator == "uniqueItems":
        return f"'{key}' lists an item twice: {error.instance!r}"
    if validator == "pattern":
        return f"'{key}' is {error.instance!r}; expected a name of letters, digits and _ starting with a letter"
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


def config_hash(config: dict[str, Any]) -> str:
    """A short, stable fingerprint of a resolved configuration."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def dataset_names(config: dict[str, Any]) -> list[str]:
    """The sample groups of each split: clean first, then the noise types in config order."""
    return ["clean"] + [noise["name"] for noise in config["noise_types"]]
