"""mkdocs hook: tables of every config key, generated from the pydantic models.

`<!-- config-reference: project -->` and `<!-- config-reference: env -->` become tables
of the keys of conf/project.yml and conf/envs/<env>.yml (type, default, rules), read
from `platform.config` at build time.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"<!-- config-reference: (project|env) -->")
RULES = ("pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength")


def _models():
    sys.path.insert(0, str(ROOT / "src"))
    package = next(p.parents[1].name for p in (ROOT / "src").glob("*/platform/config.py"))
    config = importlib.import_module(f"{package}.platform.config")
    return {"project": config.ProjectConfig, "env": config.EnvConfig}


def _type(schema: dict, defs: dict) -> tuple[str, dict]:
    if "$ref" in schema:
        return "mapping", defs[schema["$ref"].rsplit("/", 1)[1]]
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            kind, nested = _type(option, defs)
            return f"{kind} or null", nested
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"]), {}
    if "const" in schema:
        return f"`{schema['const']}`", {}
    if schema.get("type") == "array":
        kind, nested = _type(schema.get("items", {}), defs)
        return f"list of {kind}", nested
    return schema.get("type", "any"), {}


def _rows(schema: dict, defs: dict, prefix: str = "") -> list[str]:
    rows = []
    required = set(schema.get("required", []))
    for key, field in schema.get("properties", {}).items():
        kind, nested = _type(field, defs)
        target = field.get("anyOf", [field])[0] if "anyOf" in field else field
        rules = ", ".join(f"{r} `{target[r]}`" for r in RULES if r in target).replace("|", "\\|")
        if key in required:
            default = "required"
        else:
            value = field.get("default")
            default = "empty" if value in ("", None, [], {}) else f"`{value}`"
        rows.append(f"| `{prefix}{key}` | {kind} | {default} | {rules or ' '} |")
        if nested.get("properties"):
            separator = "[]." if kind.startswith("list") else "."
            rows += _rows(nested, defs, f"{prefix}{key}{separator}")
    return rows


def table(which: str) -> str:
    schema = _models()[which].model_json_schema(by_alias=True)
    header = ["| key | type | default | rules |", "| --- | --- | --- | --- |"]
    return "\n".join(header + _rows(schema, schema.get("$defs", {})))


def on_page_markdown(markdown: str, **_: object) -> str:
    return MARKER.sub(lambda match: table(match.group(1)), markdown)
