"""mkdocs hook: the Copier questions reference, generated from copier.yml at build time.

A page containing `<!-- copier-questions -->` gets a table of every question that is
asked (key, help, type, default, choices, rule). Rules are the docstrings of the
validator functions in extensions/answers.py, so the page cannot drift from what
Copier enforces.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- copier-questions -->"
FILTER = re.compile(r"\|\s*(\w+_error)")


def _rules() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("answers", ROOT / "extensions" / "answers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {
        name: (getattr(module, name).__doc__ or "").strip()
        for name in dir(module)
        if name.endswith("_error")
    }


def _cell(value: object) -> str:
    text = str(value).replace("|", "\\|").replace("\n", " ").strip()
    return text or " "


def questions_table(copier_yml: Path = ROOT / "copier.yml") -> str:
    config = yaml.safe_load(copier_yml.read_text())
    rules = _rules()
    rows = [
        "| key | asks for | type | default | choices | rule |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, question in config.items():
        if key.startswith("_") or not isinstance(question, dict) or question.get("when") is False:
            continue
        default = str(question.get("default", ""))
        if "{{" in default:
            default = "derived from earlier answers"
        else:
            default = f"`{default}`" if default else "empty"
        choices = question.get("choices") or {}
        if isinstance(choices, dict):
            choices = ", ".join(f"`{v}`" for v in choices.values())
        else:
            choices = ", ".join(f"`{c}`" for c in choices)
        found = FILTER.search(str(question.get("validator", "")))
        rule = rules.get(found.group(1), "") if found else ("one of the choices" if choices else "")
        if "include_monitoring" in str(question.get("when", "")):
            rule = f"{rule} Asked only with monitoring."
        rows.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    f"`{key}`",
                    question.get("help", ""),
                    question.get("type", "str"),
                    default,
                    choices,
                    rule,
                )
            )
            + " |"
        )
    return "\n".join(rows)


def on_page_markdown(markdown: str, **_: object) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, questions_table())
