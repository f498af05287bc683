"""One name per setting: package.json, the Python parser and the README agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editloop.errors import InvalidArgument
from editloop.settings import DEFAULT_EXCLUDE, EDITOR_ONLY, SETTINGS, Settings, parse_settings

ROOT = Path(__file__).resolve().parents[1]


def test_package_json_and_parser_use_the_same_names_and_defaults():
    props = json.loads((ROOT / "vscode-extension" / "package.json").read_text())["contributes"]["configuration"]["properties"]
    names = {k.removeprefix("editloop.") for k in props}
    assert names - EDITOR_ONLY == set(SETTINGS), names ^ (set(SETTINGS) | EDITOR_ONLY)
    defaults = Settings()
    for name, (attr, conv) in SETTINGS.items():
        declared = props[f"editloop.{name}"].get("default")
        if declared is None or declared == "":
            continue
        assert conv(declared) == getattr(defaults, attr), name
    assert tuple(props["editloop.exclude"]["default"]) == DEFAULT_EXCLUDE


def test_readme_documents_the_contract_settings():
    readme = (ROOT / "README.md").read_text()
    for name in ("dataDir", "survivalSeconds", "redactSecrets", "exclude", "generation.endpoint", "generation.model", "training.baseModel", "training.auto"):
        assert f"editloop.{name}" in readme


def test_nested_dotted_and_prefixed_forms_parse_alike():
    a = parse_settings({"generation": {"model": "m"}, "survivalSeconds": [60, 5]})
    b = parse_settings({"editloop.generation.model": "m", "editloop.survivalSeconds": [5, 60]})
    c = parse_settings({"editloop": {"generation.model": "m", "survivalSeconds": [60, 5]}})
    assert a.generation_model == b.generation_model == c.generation_model == "m"
    assert a.survival_seconds == b.survival_seconds == c.survival_seconds == (5, 60)


@pytest.mark.parametrize("raw", [{"survivalSeconds": "soon"}, {"redactSecrets": "maybe"}, {"training.threads": -1}, {"exclude": 3}])
def test_bad_values_name_the_setting(raw):
    with pytest.raises(InvalidArgument, match="editloop."):
        parse_settings(raw)
