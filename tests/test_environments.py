"""The conda environments of the rules pin the same versions as requirements.lock."""

import re

import yaml

from conftest import REPO


def locked_versions():
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", (REPO / "requirements.lock").read_text(), re.M)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def test_every_env_pin_matches_the_lock_file():
    locked = locked_versions()
    env_files = sorted((REPO / "envs").glob("*.yaml"))
    assert env_files
    for env_file in env_files:
        env = yaml.safe_load(env_file.read_text())
        assert "python=3.11" in env["dependencies"], env_file.name
        pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
        assert pip, env_file.name
        for requirement in pip:
            name, version = requirement.split("==")
            assert locked.get(name.lower()) == version, f"{env_file.name}: {requirement} vs lock {locked.get(name.lower())}"


def test_every_rule_env_exists():
    referenced = set()
    for rule_file in (REPO / "workflow/rules").glob("*.smk"):
        referenced |= set(re.findall(r'conda:\s*\n\s*"\.\./\.\./(envs/[^"]+)"', rule_file.read_text()))
    assert referenced and all((REPO / path).is_file() for path in referenced)
