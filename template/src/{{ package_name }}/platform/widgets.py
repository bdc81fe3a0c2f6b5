"""Notebook widgets that also work off Databricks.

On Databricks a notebook reads its parameters from `dbutils.widgets`. `LocalWidgets`
offers the same calls (text, dropdown, get) so that the same notebook file runs
locally: values come from MLOPS_WIDGET_<NAME> environment variables, else the default.
`apply_overrides` turns the YAML of an "overrides" widget into a throw-away copy of
conf/ with those keys merged into the environment's file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import yaml

from .config import merge, parse_overrides


class LocalWidgets:
    def __init__(self) -> None:
        self._defaults: dict[str, str] = {}
        self._choices: dict[str, list[str]] = {}

    def text(self, name: str, default_value: str, label: str | None = None) -> None:
        self._defaults[name] = default_value

    def dropdown(
        self, name: str, default_value: str, choices: list[str], label: str | None = None
    ) -> None:
        if default_value not in choices:
            raise ValueError(f"widget {name}: default '{default_value}' is not among its choices")
        self._defaults[name], self._choices[name] = default_value, list(choices)

    def get(self, name: str) -> str:
        if name not in self._defaults:
            raise ValueError(f"widget {name}: not defined")
        value = os.environ.get(f"MLOPS_WIDGET_{name.upper()}", self._defaults[name])
        if name in self._choices and value not in self._choices[name]:
            allowed = ", ".join(self._choices[name])
            raise ValueError(f"widget {name}: '{value}' is not one of {allowed}")
        return value


def apply_overrides(conf_dir: Path, env: str, overrides: str) -> Path:
    """conf_dir itself without overrides; else a temp copy with them merged in."""
    changes = parse_overrides(overrides, "overrides")
    if not changes:
        return Path(conf_dir)
    copy = Path(tempfile.mkdtemp(prefix="conf-")) / "conf"
    shutil.copytree(conf_dir, copy)
    path = copy / "envs" / f"{env}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(merge(data, changes), sort_keys=False), encoding="utf-8")
    return copy
