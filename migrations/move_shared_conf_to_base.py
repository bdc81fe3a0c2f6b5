"""Migration to 0.2.0: what every environment shares moves to conf/base.yml.

From 0.2.0 an environment's settings are conf/base.yml with conf/envs/<env>.yml merged
into it (the environment wins), and a table left out of `tables:` is named
`<catalog>.<schema>.<key>`. A project generated before keeps four complete files,
which still load; this migration writes each shared value once, changing none:

- a top-level section (a mapping) whose text, comments included, is the same in every
  conf/envs/*.yml moves, as text, to conf/base.yml, and leaves the environment files;
- a `tables:` section in which every name is the derived one is dropped.

Sections that differ anywhere stay where they are, so an edit of the project's own is
never moved or rewritten; a section that conf/base.yml (written by the update) holds
differently stays in the environment files too. Before writing, it checks that every
environment's settings are the same as before (base merged with the environment,
tables derived) and stops, writing nothing, if not. A second run changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from _common import MigrationError, load_yaml, run

BASE = "base.yml"
HEADER = """\
# What every environment shares; conf/envs/<env>.yml holds what differs, and wins where
# both set a key. Tables left out of `tables:` are <catalog>.<schema>.<table>.
"""
TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w-]*:")


def sections(text: str) -> tuple[str, dict[str, str]]:
    """The lines before the first section, and {key: the section's text}: its key line,
    the comment lines right above it, and everything up to the next section."""
    lines = text.splitlines(keepends=True)
    starts = []
    for index, line in enumerate(lines):
        if TOP_LEVEL_KEY.match(line):
            start = index
            while start > 0 and lines[start - 1].startswith("#"):
                start -= 1
            starts.append((start, line.split(":", 1)[0]))
    if not starts:
        return text, {}
    head = "".join(lines[: starts[0][0]])
    found = {}
    for (start, key), (end, _) in zip(starts, [*starts[1:], (len(lines), "")], strict=True):
        found[key] = "".join(lines[start:end])
    return head, found


def _merge(base: dict, changes: dict) -> dict:
    """The loader's merge (platform/config.py `merge`), which this script cannot import:
    it runs with Copier's Python, not the project's."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _tables(data: dict) -> dict:
    """`tables` as the loader derives it: missing keys and bare names in catalog.schema."""
    prefix = f"{data.get('catalog')}.{data.get('schema')}"
    given = data.get("tables") or {}
    keys = {"features", "validation_results", "evaluations", "predictions", "drift_metrics"}
    named = {key: key for key in keys} | given
    return {k: v if "." in str(v) else f"{prefix}.{v}" for k, v in named.items()}


def effective(data: dict) -> dict:
    """An environment's settings as the loader sees them, tables derived."""
    return {**data, "tables": _tables(data)}


def derived_only(block: str, data: dict) -> bool:
    """Whether every name in this `tables:` section is the one the loader derives."""
    tables = _load(block).get("tables") or {}
    prefix = f"{data.get('catalog')}.{data.get('schema')}"
    return all(name == f"{prefix}.{key}" for key, name in tables.items())


def _load(text: str) -> dict:
    return yaml.safe_load(text) or {}


def _join(head: str, blocks: list[str]) -> str:
    """Sections as they were written (each keeps the blank lines after it), one newline at
    the end of the file."""
    return (head + "".join(blocks)).rstrip("\n") + "\n"


def migrate(project: Path) -> list[Path]:
    conf = project / "conf"
    files = sorted((conf / "envs").glob("*.yml"))
    if len(files) < 2:
        return []
    # `copier update` has just written the release's conf/base.yml if there was none.
    base_file = conf / BASE
    base_before = base_file.read_text(encoding="utf-8") if base_file.exists() else HEADER
    base = load_yaml(base_file, project) if base_file.exists() else {}
    if not isinstance(base, dict):
        return []
    parsed = {}
    for path in files:
        data = load_yaml(path, project)
        if not isinstance(data, dict):
            return []  # not the files this migration knows; leave them alone
        head, blocks = sections(path.read_text(encoding="utf-8"))
        parsed[path] = (data, head, blocks)
    first = parsed[files[0]][2]

    def everywhere(key: str) -> bool:
        text = first[key].rstrip("\n")
        return all(blocks.get(key, "").rstrip("\n") == text for _, _, blocks in parsed.values())

    # Sections, not one-line settings: catalog, schema and host say which environment a
    # file is and stay together in it.
    shared = [
        key
        for key in first
        if key != "tables" and isinstance(parsed[files[0]][0].get(key), dict) and everywhere(key)
    ]
    in_base = sections(base_before)[1]
    # A section base.yml holds differently is left where it is (the environments win).
    moving = [
        key
        for key in shared
        if in_base.get(key, first[key]).rstrip("\n") == first[key].rstrip("\n")
    ]
    added = [first[key].rstrip("\n") + "\n\n" for key in moving if key not in in_base]
    base_text = _join(base_before.rstrip("\n") + "\n\n", added) if added else base_before
    new_base = _load(base_text)
    changed = {}
    for path, (data, head, blocks) in parsed.items():
        kept = [
            block
            for key, block in blocks.items()
            if key not in moving and not (key == "tables" and derived_only(block, data))
        ]
        text = _join(head, kept)
        if text == path.read_text(encoding="utf-8"):
            continue
        if effective(_merge(new_base, _load(text))) != effective(_merge(base, data)):
            raise MigrationError(
                f"{path.relative_to(project)}: its settings would change if the shared ones "
                "moved to conf/base.yml; nothing was moved"
            )
        changed[path] = text
    if added:
        base_file.write_text(base_text, encoding="utf-8")
    for path, text in changed.items():
        path.write_text(text, encoding="utf-8")
    return ([base_file] if added else []) + list(changed)


def report(root: Path) -> None:
    changed = migrate(root)
    if changed:
        names = ", ".join(str(path.relative_to(root)) for path in changed)
        print(f"migration 0.2.0: shared settings moved to conf/base.yml ({names})")


if __name__ == "__main__":
    run("move_shared_conf_to_base", report)
