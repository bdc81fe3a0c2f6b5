"""Fleet view for the platform team: template version of every project, and updates.

    .venv/bin/python scripts/fleet.py [--update] [--to vX.Y.Z] PROJECT_DIR...

Reads each project's `.copier-answers.yml`, compares it with the newest release tag of
the template it came from and, with --update, runs the same update as the projects' own
scripts/template_update.py (this checkout's copy) on those that are behind. Prints one
table row per project: project, from -> to, and clean / conflicted files / refusal.
Exit status 1 if any project was refused or conflicted.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_updater():
    path = ROOT / "template" / "scripts" / "template_update.py"
    spec = importlib.util.spec_from_file_location("template_update", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def survey(project: Path, updater, to: str | None, apply: bool) -> tuple[str, str, str]:
    try:
        answers = updater.read_answers(project)
        current = str(answers["_commit"])
        if not apply:
            tags = updater.release_tags(str(answers["_src_path"]))
            newest = to or (tags[-1] if tags else "?")
            now, wanted = updater.as_version(current), updater.as_version(newest)
            behind = now is None or wanted is None or now < wanted
            return current, newest, "behind" if behind and current != newest else "up to date"
        result = updater.update(project, to)
    except updater.UpdateRefused as error:
        return "?", to or "?", f"refused: {error}"
    if result.conflicts:
        return result.from_version, result.to_version, "conflicts: " + ", ".join(result.conflicts)
    outcome = "clean" if result.status == "updated" else result.status
    return result.from_version, result.to_version, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", type=Path)
    parser.add_argument("--update", action="store_true", help="update projects that are behind")
    parser.add_argument("--to", help="template tag (default: each template's newest)")
    args = parser.parse_args(argv)
    updater = load_updater()
    rows = [(str(p), *survey(p, updater, args.to, args.update)) for p in args.projects]
    width = max(len("project"), *(len(r[0]) for r in rows))
    print(f"{'project':<{width}}  {'from':>10} -> {'to':<10}  result")
    for name, before, after, outcome in rows:
        print(f"{name:<{width}}  {before:>10} -> {after:<10}  {outcome}")
    failed = any(r[3].startswith(("refused", "conflicts")) for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
