"""Notebook widgets that also work off Databricks.

On Databricks a notebook reads its parameters from `dbutils.widgets`. `LocalWidgets`
offers the same calls (text, dropdown, get) so that the same notebook file runs
locally: values come from MLOPS_WIDGET_<NAME> environment variables, else the default.
"""

from __future__ import annotations

import os


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
